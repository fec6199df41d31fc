package cli

import "context"

// evalCommands are the `tandem eval` subcommands.
func evalCommands() map[string]command {
	return map[string]command{}
}

func runEval(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "tandem eval", evalCommands(), args)
}
