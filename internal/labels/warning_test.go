package labels

import (
	"os"
	"strings"
	"testing"

	"github.com/petitions/petitions/internal/warning"
	"github.com/petitions/petitions/workflows"
)

// Every warning rule and level has a label, and the glossary names each rule with it.
func TestWarningLabels(t *testing.T) {
	b, err := os.ReadFile("../../docs/glossary.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range warning.Codes {
		if Zh(KindWarning, code) == code || Of(English, KindWarning, code) == "" {
			t.Errorf("rule %s has no label", code)
		}
		if want := "`" + code + "` " + Zh(KindWarning, code); !strings.Contains(string(b), want) {
			t.Errorf("docs/glossary.md lacks %q", want)
		}
	}
	for _, level := range warning.Levels {
		if Zh(KindLevel, level) == level {
			t.Errorf("level %s has no label", level)
		}
		if want := "`" + level + "` " + Zh(KindLevel, level); !strings.Contains(string(b), want) {
			t.Errorf("docs/glossary.md lacks %q", want)
		}
	}
	if Zh(KindEvent, workflows.EventWarningRaised) != "预警" {
		t.Error("warning_raised has no label")
	}
}
