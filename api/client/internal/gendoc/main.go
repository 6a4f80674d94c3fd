// Command gendoc writes the OpenAPI document kpiledger serves to the file
// named by its argument, as api/client's test compares it (go generate
// ./api/client runs it before oapi-codegen).
package main

import (
	"encoding/json"
	"log"
	"os"

	"github.com/opdc/kpiledger/api"
	"github.com/opdc/kpiledger/projections"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: gendoc FILE")
	}
	doc, err := json.MarshalIndent(api.New(api.Config{Model: projections.NewModel(), TokenKey: []byte("k")}).OpenAPI(), "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(os.Args[1], append(doc, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}
