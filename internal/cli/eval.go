package cli

import "context"

// evalCommands are the `tandem eval` subcommands.
func evalCommands() map[string]command {
	return map[string]command{
		"nlu":       {"train and score the intent classifier on CSV splits", runEvalNLU},
		"sentiment": {"train and score the sentiment model on CSV splits", runEvalSentiment},
		"retrieval": {"ingest a JSONL corpus and score recall@k, MRR and latency", runEvalRetrieval},
		"run":       {"play a bot's conversation tests in process and report (text, json, junit, html)", runEvalRun},
		"compare":   {"compare two JSON reports of eval run (text, json, html); exit 1 on a regression", runEvalCompare},
	}
}

func runEval(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "tandem eval", evalCommands(), args)
}
