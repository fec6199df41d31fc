package flows_test

import (
	"testing"

	"github.com/tandemhq/tandem/flows"
)

// FuzzParse: any input either parses into a flow whose references resolve, or fails with
// an error naming the file; it never panics.
func FuzzParse(f *testing.F) {
	f.Add([]byte(returnFlow))
	f.Add([]byte(actionFlow))
	f.Add([]byte("name: a\nsteps:\n  - say: hi\n    goto: a\n  - id: a\n    if: '{{.Slots.x}}'\n    then: a\n"))
	f.Add([]byte("name: a\nsteps: [{ask: x, prompt: p, type: 'list:reason'}]\n"))
	f.Add([]byte("*a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := flows.Parse("f.yaml", data, vocab)
		if err != nil {
			return
		}
		for _, st := range fl.Steps {
			for _, ref := range []string{st.Then, st.Else, st.Goto, st.OnError} {
				if ref == "" {
					continue
				}
				if _, _, ok := fl.StepByID(ref); !ok {
					t.Fatalf("step %s refers to missing %q", st.ID, ref)
				}
			}
		}
	})
}
