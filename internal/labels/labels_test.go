package labels

import (
	"os"
	"strings"
	"testing"

	"github.com/petitions/petitions/workflows"
)

// Every stage has a label in both languages.
func TestEveryStageHasALabel(t *testing.T) {
	for _, s := range []workflows.Stage{workflows.StageRegistered, workflows.StageHandling, workflows.StageReplied,
		workflows.StageReview, workflows.StageReviewed, workflows.StageReReview, workflows.StageClosed,
		workflows.StageTerminated, workflows.StageRejected, workflows.StageWithdrawn} {
		if Of(Chinese, KindStage, string(s)) == string(s) || Of(English, KindStage, string(s)) == "" {
			t.Errorf("stage %s has no label", s)
		}
	}
}

// The glossary and this table say the same: each channel, category and evaluation code the
// glossary names appears there with this Chinese label.
func TestGlossaryAgrees(t *testing.T) {
	b, err := os.ReadFile("../../docs/glossary.md")
	if err != nil {
		t.Fatal(err)
	}
	glossary := string(b)
	for _, kind := range []string{KindChannel, KindCategory, KindEvaluation} {
		for _, code := range Codes(kind) {
			want := "`" + code + "` " + Zh(kind, code)
			if !strings.Contains(glossary, want) {
				t.Errorf("docs/glossary.md lacks %q (%s)", want, kind)
			}
		}
	}
}

func TestUnknownCodeShownAsItIs(t *testing.T) {
	if got := Of(English, KindStage, "nonesuch"); got != "nonesuch" {
		t.Fatalf("got %q", got)
	}
}
