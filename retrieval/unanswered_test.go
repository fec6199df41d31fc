package retrieval_test

import (
	"testing"

	"github.com/tandemhq/tandem/retrieval"
)

func TestGroupQuestions(t *testing.T) {
	t.Parallel()
	qs := []string{
		"Do you ship to Canada?", "Can you ship my order to Canada?", "Is shipping to Canada possible?",
		"Do you have a student discount?", "Is there a discount for students?",
		"What is your phone number?", "",
	}
	groups := retrieval.GroupQuestions(qs, 0)
	if len(groups) != 3 {
		t.Fatalf("groups = %+v, want 3", groups)
	}
	if groups[0].Count != 3 || groups[1].Count != 2 || groups[2].Count != 1 {
		t.Errorf("counts = %d %d %d, want 3 2 1", groups[0].Count, groups[1].Count, groups[2].Count)
	}
	if retrieval.GroupQuestions(nil, 0) != nil {
		t.Error("no questions gave groups")
	}
}
