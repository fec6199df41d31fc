package tandem_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tandemhq/tandem"
)

func TestErrorCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		code    string
		message string
	}{
		{"Nil", nil, "", ""},
		{"Plain", errors.New("boom"), tandem.EINTERNAL, "internal error"},
		{"Wrapped", fmt.Errorf("find: %w", tandem.Errorf(tandem.ENOTFOUND, "no conversation %q", "c1")), tandem.ENOTFOUND, `no conversation "c1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tandem.ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			if got := tandem.ErrorMessage(tt.err); got != tt.message {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.message)
			}
		})
	}
}
