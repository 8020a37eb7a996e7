package schemagen

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// node is the part of a JSON Schema document the compatibility rules read.
type node struct {
	Type                 string           `json:"type"`
	Format               string           `json:"format"`
	Properties           map[string]*node `json:"properties"`
	Required             []string         `json:"required"`
	Items                *node            `json:"items"`
	AdditionalProperties json.RawMessage  `json:"additionalProperties"`
	Enum                 []any            `json:"enum"`
}

// Breaking compares the previous release's document with the current one
// and lists every change that would break a reader of the previous version:
// a removed field, a retyped field, a newly required field, or a widened
// enum (old readers validate enums and would reject the new value).
func Breaking(prev, cur []byte) ([]string, error) {
	var p, c node
	if err := json.Unmarshal(prev, &p); err != nil {
		return nil, fmt.Errorf("parse previous document: %w", err)
	}
	if err := json.Unmarshal(cur, &c); err != nil {
		return nil, fmt.Errorf("parse current document: %w", err)
	}
	var out []string
	compare("", &p, &c, &out)
	return out, nil
}

func compare(path string, p, c *node, out *[]string) {
	at := path
	if at == "" {
		at = "(root)"
	}
	if p.Type != c.Type || p.Format != c.Format {
		*out = append(*out, fmt.Sprintf("%s: retyped from %s to %s", at, describe(p), describe(c)))
		return
	}
	if len(p.Enum) > 0 {
		for _, v := range c.Enum {
			if !slices.ContainsFunc(p.Enum, func(o any) bool { return fmt.Sprint(o) == fmt.Sprint(v) }) {
				*out = append(*out, fmt.Sprintf("%s: enum value %v added", at, v))
			}
		}
	}
	names := make([]string, 0, len(p.Properties))
	for name := range p.Properties {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		cp, ok := c.Properties[name]
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: field removed", join(path, name)))
			continue
		}
		compare(join(path, name), p.Properties[name], cp, out)
	}
	for _, name := range c.Required {
		if !slices.Contains(p.Required, name) {
			*out = append(*out, fmt.Sprintf("%s: newly required", join(path, name)))
		}
	}
	if p.Items != nil && c.Items != nil {
		compare(path+"[]", p.Items, c.Items, out)
	}
	if pa, ca := asNode(p.AdditionalProperties), asNode(c.AdditionalProperties); pa != nil && ca != nil {
		compare(path+"{}", pa, ca, out)
	}
}

func asNode(raw json.RawMessage) *node {
	var n node
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &n) != nil {
		return nil
	}
	return &n
}

func describe(n *node) string {
	if n.Format != "" {
		return n.Type + "(" + n.Format + ")"
	}
	return n.Type
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
