package signed_test

import (
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/signed"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	s := signed.New([]byte("secret-1"))
	good := s.Seal("visitor", "v-123", now.Add(time.Hour))
	tests := []struct {
		name, purpose, sealed string
		signer                *signed.Signer
		want                  string
		ok                    bool
	}{
		{"OK", "visitor", good, s, "v-123", true},
		{"ErrPurpose", "session", good, s, "", false},
		{"ErrSecret", "visitor", good, signed.New([]byte("secret-2")), "", false},
		{"ErrExpired", "visitor", s.Seal("visitor", "v-123", now), s, "", false},
		{"ErrTampered", "visitor", "di0xMjQ" + good[len("di0xMjM"):], s, "", false},
		{"ErrShape", "visitor", "a.b", s, "", false},
		{"ErrBase64", "visitor", "!!.1.x", s, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.signer.Open(tt.purpose, tt.sealed, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Open = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
