package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadEmail(t *testing.T) {
	t.Parallel()
	const section = "email:\n  smtp_url: smtp://mail.example.com:587\n  username: tandem@example.com\n  from: \"Example Support <support@example.com>\"\n"
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		want    Email
		wantErr string
	}{
		{name: "OKOff", want: Email{}},
		{name: "OK", yaml: section, env: map[string]string{"TANDEM_SMTP_PASSWORD": "s3cret-pw"},
			want: Email{SMTPURL: "smtp://mail.example.com:587", Username: "tandem@example.com",
				From: "Example Support <support@example.com>", Password: "s3cret-pw"}},
		{name: "OKEnvOverFile", yaml: section, env: map[string]string{"TANDEM_SMTP_PASSWORD": "pw", "TANDEM_EMAIL_SMTP_URL": "smtps://relay.example.com",
			"TANDEM_EMAIL_FROM": "help@example.com", "TANDEM_EMAIL_TIMEOUT": "5s"},
			want: Email{SMTPURL: "smtps://relay.example.com", Username: "tandem@example.com", From: "help@example.com", Password: "pw", Timeout: 5 * time.Second}},
		{name: "OKNoAuth", yaml: "email: {smtp_url: 'smtp://127.0.0.1:25', from: a@example.com, ca_file: /etc/ca.pem}\n",
			want: Email{SMTPURL: "smtp://127.0.0.1:25", From: "a@example.com", CAFile: "/etc/ca.pem"}},
		{name: "OKPasswordWithoutEmail", env: map[string]string{"TANDEM_SMTP_PASSWORD": "pw"}, want: Email{Password: "pw"}},
		{name: "ErrPasswordInFile", yaml: section + "  password: hunter2\n", wantErr: "email.password: the SMTP password is read only from the environment (TANDEM_SMTP_PASSWORD)"},
		{name: "ErrSMTPPasswordInFile", yaml: "email: {smtp_password: hunter2}\n", wantErr: "TANDEM_SMTP_PASSWORD"},
		{name: "ErrUnknownKey", yaml: "email: {smtp_url: 'smtp://h', from: a@example.com, sender: x}\n", wantErr: "field sender not found"},
		{name: "ErrNoPassword", yaml: section, wantErr: "TANDEM_SMTP_PASSWORD is required with email.username"},
		{name: "ErrPasswordNoUsername", yaml: "email: {smtp_url: 'smtp://h', from: a@example.com}\n", env: map[string]string{"TANDEM_SMTP_PASSWORD": "pw"},
			wantErr: "email.username is not"},
		{name: "ErrScheme", yaml: "email: {smtp_url: 'https://mail.example.com', from: a@example.com}\n", wantErr: "email.smtp_url"},
		{name: "ErrNoHost", yaml: "email: {smtp_url: 'smtp://', from: a@example.com}\n", wantErr: "email.smtp_url"},
		{name: "ErrCredentialsInURL", yaml: "email: {smtp_url: 'smtp://u:hunter2@mail.example.com', from: a@example.com}\n", wantErr: "must not hold credentials"},
		{name: "ErrNoFrom", yaml: "email: {smtp_url: 'smtp://mail.example.com'}\n", wantErr: "email.from: required"},
		{name: "ErrFrom", yaml: "email: {smtp_url: 'smtp://mail.example.com', from: support}\n", wantErr: "email.from: \"support\" is not an email address"},
		{name: "ErrNoURL", yaml: "email: {from: a@example.com}\n", wantErr: "email: smtp_url is required"},
		{name: "ErrTimeout", yaml: "email: {smtp_url: 'smtp://h', from: a@example.com, timeout: -1s}\n", wantErr: "email.timeout"},
		{name: "ErrTimeoutEnv", env: map[string]string{"TANDEM_EMAIL_TIMEOUT": "soon"}, wantErr: "TANDEM_EMAIL_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := ""
			if tt.yaml != "" {
				path = filepath.Join(t.TempDir(), "tandem.yaml")
				if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(path, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Email != tt.want {
				t.Errorf("email = %+v, want %+v", c.Email, tt.want)
			}
			if tt.want.Password != "" && strings.Contains(c.String(), tt.want.Password) {
				t.Errorf("String() shows the SMTP password:\n%s", c.String())
			}
		})
	}
}
