//go:build ignore

// genembed writes the two files that cmd/pulumi-resource-kubernetes embeds:
//
//	go run genembed.go <provider-module-dir> <out-dir> <version>
//
// schema-embed.json is the module's cmd/pulumi-resource-kubernetes/schema.json
// with "version" set; terraform-mapping-embed.json is its
// terraform-mapping.json, compacted.
package main

import (
	"encoding/json"
	"log"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 4 {
		log.Fatal("usage: go run genembed.go <provider-module-dir> <out-dir> <version>")
	}
	src := filepath.Join(os.Args[1], "cmd", "pulumi-resource-kubernetes")
	out, version := os.Args[2], os.Args[3]

	var schema map[string]json.RawMessage
	read(filepath.Join(src, "schema.json"), &schema)
	v, _ := json.Marshal(version)
	schema["version"] = v
	write(filepath.Join(out, "schema-embed.json"), schema)

	var mapping any
	read(filepath.Join(src, "terraform-mapping.json"), &mapping)
	write(filepath.Join(out, "terraform-mapping-embed.json"), mapping)
}

func read(path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
}

func write(path string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
