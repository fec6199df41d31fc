package web_test

import (
	"net/http/httptest"
	"testing"

	"github.com/tandemhq/tandem/web"
)

func TestClientIPFunc(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header string
		set    map[string][]string
		want   string
	}{
		{name: "OK/RemoteAddr", want: "192.0.2.1"},
		{name: "OK/HeaderIgnoredWhenNotConfigured", set: map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, want: "192.0.2.1"},
		{name: "OK/ForwardedForLastHop", header: "X-Forwarded-For",
			set: map[string][]string{"X-Forwarded-For": {"198.51.100.7, 203.0.113.9"}}, want: "203.0.113.9"},
		{name: "OK/ForwardedForLastHeader", header: "x-forwarded-for",
			set: map[string][]string{"X-Forwarded-For": {"198.51.100.7", "203.0.113.9"}}, want: "203.0.113.9"},
		{name: "OK/RealIP", header: "X-Real-IP", set: map[string][]string{"X-Real-Ip": {"2001:db8::1"}}, want: "2001:db8::1"},
		{name: "ErrMalformedFallsBack", header: "X-Real-IP", set: map[string][]string{"X-Real-Ip": {"me"}}, want: "192.0.2.1"},
		{name: "ErrMissingFallsBack", header: "X-Real-IP", want: "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/chat/ws", nil)
			r.RemoteAddr = "192.0.2.1:4711"
			for k, vs := range tt.set {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			if got := web.ClientIPFunc(tt.header)(r); got != tt.want {
				t.Errorf("client ip = %q, want %q", got, tt.want)
			}
		})
	}
}
