package cli

import "context"

// evalCommands are the `tandem eval` subcommands.
func evalCommands() map[string]command {
	return map[string]command{
		"nlu":       {"train and score the intent classifier on CSV splits", runEvalNLU},
		"sentiment": {"train and score the sentiment model on CSV splits", runEvalSentiment},
	}
}

func runEval(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "tandem eval", evalCommands(), args)
}
