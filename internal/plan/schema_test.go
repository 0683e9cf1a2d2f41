package plan

import (
	"fmt"
	"testing"

	"github.com/zarrforge/zarrforge/source"
)

// TestSetAttr: setting an attribute replaces the one of its name, in
// place, or adds it last; the attributes a clone shares are not changed.
func TestSetAttr(t *testing.T) {
	title := func(v string) source.Attr { return source.Attr{Name: "title", Type: source.Char, Value: v} }
	s := Schema{Attrs: []source.Attr{title("old"), {Name: "version", Type: source.Int, Value: []int32{3}}},
		Vars: []Variable{{Name: "sst"}}}
	shared := s.Attrs
	s.SetAttr(title("new"))
	s.SetAttr(source.Attr{Name: "history", Type: source.Char, Value: "made"})
	if got := fmt.Sprint(s.Attrs); got != "[{title char new} {version int [3]} {history char made}]" {
		t.Errorf("attributes %s", got)
	}
	if shared[0].Value != "old" {
		t.Error("the attributes the schema shared were changed")
	}
	v, _ := s.Var("sst")
	v.SetAttr(source.Attr{Name: "units", Type: source.Char, Value: "K"})
	v.SetAttr(source.Attr{Name: "units", Type: source.Char, Value: "degC"})
	if got := fmt.Sprint(s.Vars[0].Attrs); got != "[{units char degC}]" {
		t.Errorf("variable attributes %s", got)
	}
}
