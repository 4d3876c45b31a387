package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestAppendIndent checks appendIndent against json.Indent.
func TestAppendIndent(t *testing.T) {
	docs := []string{
		`{}`, `[]`, `"x"`, `1`, `null`,
		`{"a":[],"b":{},"c":[1,2,{"d":"e"}],"f":"g,h:{[\"\\"}`,
		`[[[]],{"":{"x":[true,false,null,-1.5e3]}}]`,
		`{"s":"\u003chtml\u003e \\\" ] } , :","t":"é"}`,
		strings.Repeat("[", 40) + "1" + strings.Repeat("]", 40), // deeper than spaces
	}
	for _, d := range docs {
		for _, prefix := range []string{"", "    "} {
			var want bytes.Buffer
			if err := json.Indent(&want, []byte(d), prefix, "  "); err != nil {
				t.Fatalf("json.Indent(%s): %v", d, err)
			}
			if got := appendIndent(nil, []byte(d), prefix); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("appendIndent(%s, %q) =\n%s\nwant\n%s", d, prefix, got, want.Bytes())
			}
		}
	}
}

// FuzzAppendIndent compares appendIndent with json.Indent on any valid
// document, compacted first as json.Marshal would write it.
func FuzzAppendIndent(f *testing.F) {
	f.Add(`{"a":[1,{"b":"c\"]"}],"d":{}}`)
	f.Fuzz(func(t *testing.T, s string) {
		var compact bytes.Buffer
		if json.Compact(&compact, []byte(s)) != nil {
			return
		}
		var want bytes.Buffer
		json.Indent(&want, compact.Bytes(), "  ", "  ")
		if got := appendIndent(nil, compact.Bytes(), "  "); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendIndent(%s) =\n%s\nwant\n%s", compact.Bytes(), got, want.Bytes())
		}
	})
}
