// The four built-in Azure Boards processes as the simulator serves them: work item types, their
// states with state categories, the backlog hierarchy and the size field each one uses.
export type ProcessName = 'Agile' | 'Scrum' | 'CMMI' | 'Basic';
export type StateCategory = 'Proposed' | 'InProgress' | 'Resolved' | 'Completed' | 'Removed';

export interface SimState {
  name: string;
  color: string;
  category: StateCategory;
}

export interface SimProcess {
  name: ProcessName;
  /** Type name → its states, first state is the initial one. */
  types: Record<string, SimState[]>;
  /** Top-down: epic, feature, requirement-level, task-level (Basic has no feature level). */
  hierarchy: string[];
  /** The process's size field on the requirement level. */
  pointsField: string;
}

const s = (name: string, category: StateCategory, color = 'b2b2b2'): SimState => ({ name, color, category });

const agileFull = [
  s('New', 'Proposed'),
  s('Active', 'InProgress', '007acc'),
  s('Resolved', 'Resolved', 'ff9d00'),
  s('Closed', 'Completed', '339933'),
  s('Removed', 'Removed', 'ffffff'),
];
const scrumPbi = [
  s('New', 'Proposed'),
  s('Approved', 'Proposed'),
  s('Committed', 'InProgress', '007acc'),
  s('Done', 'Completed', '339933'),
  s('Removed', 'Removed', 'ffffff'),
];
const scrumPortfolio = [
  s('New', 'Proposed'),
  s('In Progress', 'InProgress', '007acc'),
  s('Done', 'Completed', '339933'),
  s('Removed', 'Removed', 'ffffff'),
];
const cmmi = [
  s('Proposed', 'Proposed'),
  s('Active', 'InProgress', '007acc'),
  s('Resolved', 'Resolved', 'ff9d00'),
  s('Closed', 'Completed', '339933'),
];
const cmmiShort = [s('Proposed', 'Proposed'), s('Active', 'InProgress', '007acc'), s('Closed', 'Completed', '339933')];
const basic = [s('To Do', 'Proposed'), s('Doing', 'InProgress', '007acc'), s('Done', 'Completed', '339933')];

export const PROCESSES: Readonly<Record<ProcessName, SimProcess>> = {
  Agile: {
    name: 'Agile',
    types: {
      Epic: agileFull,
      Feature: agileFull,
      'User Story': agileFull,
      Task: [
        s('New', 'Proposed'),
        s('Active', 'InProgress', '007acc'),
        s('Closed', 'Completed', '339933'),
        s('Removed', 'Removed', 'ffffff'),
      ],
      Bug: [
        s('New', 'Proposed'),
        s('Active', 'InProgress', '007acc'),
        s('Resolved', 'Resolved', 'ff9d00'),
        s('Closed', 'Completed', '339933'),
      ],
      Issue: [s('Active', 'InProgress', '007acc'), s('Closed', 'Completed', '339933')],
    },
    hierarchy: ['Epic', 'Feature', 'User Story', 'Task'],
    pointsField: 'Microsoft.VSTS.Scheduling.StoryPoints',
  },
  Scrum: {
    name: 'Scrum',
    types: {
      Epic: scrumPortfolio,
      Feature: scrumPortfolio,
      'Product Backlog Item': scrumPbi,
      Bug: scrumPbi,
      Task: [
        s('To Do', 'Proposed'),
        s('In Progress', 'InProgress', '007acc'),
        s('Done', 'Completed', '339933'),
        s('Removed', 'Removed', 'ffffff'),
      ],
      Impediment: [s('Open', 'InProgress', '007acc'), s('Closed', 'Completed', '339933')],
    },
    hierarchy: ['Epic', 'Feature', 'Product Backlog Item', 'Task'],
    pointsField: 'Microsoft.VSTS.Scheduling.Effort',
  },
  CMMI: {
    name: 'CMMI',
    types: { Epic: cmmi, Feature: cmmi, Requirement: cmmi, Task: cmmi, Bug: cmmi, Risk: cmmiShort, Issue: cmmiShort },
    hierarchy: ['Epic', 'Feature', 'Requirement', 'Task'],
    pointsField: 'Microsoft.VSTS.Scheduling.Size',
  },
  Basic: {
    name: 'Basic',
    types: { Epic: basic, Issue: basic, Task: basic },
    hierarchy: ['Epic', 'Issue', 'Task'],
    pointsField: 'Microsoft.VSTS.Scheduling.Effort',
  },
};
