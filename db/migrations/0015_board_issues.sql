CREATE TABLE "board_issues" (
	"connection" text NOT NULL,
	"board" integer NOT NULL,
	"jql" text NOT NULL,
	"keys" jsonb NOT NULL,
	"read_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "board_issues_connection_board_pk" PRIMARY KEY("connection","board")
);
