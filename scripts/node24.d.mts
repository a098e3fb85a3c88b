// Types of scripts/node24.mjs for the TypeScript callers (the bench); the script stays plain
// JavaScript so it runs on Node versions too old for the project.
export declare const NODE_FLAGS: readonly string[];
export declare function tuneHeap(): void;
export declare function isModern(version?: string): boolean;
export declare function modernNode(): string;
export declare function runOnModernNode(script: string, args: readonly string[]): void;
export declare const NODE_ENV: Readonly<Record<string, string>>;
export declare function restartWithEnv(script: string, args: readonly string[]): void;
