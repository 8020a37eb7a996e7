// Command genschema writes the JSON Schema documents of every registered
// event type. It runs through `go generate` in the schemas module:
//
//	go run ./internal/cmd/genschema -out jsonschema
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tributary-io/tributary/schemas/internal/schemagen"
)

func main() {
	out := flag.String("out", "jsonschema", "directory to write the documents to")
	src := flag.String("src", ".", "schemas module directory, for doc comments")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genschema:", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	docs, err := schemagen.Generate(src)
	if err != nil {
		return err
	}
	return schemagen.Write(out, docs)
}
