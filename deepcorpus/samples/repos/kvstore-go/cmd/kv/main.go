package main

import (
	"fmt"
	"os"

	"github.com/deepcorpus/kvstore/internal/store"
)

func main() {
	s := store.New()
	for _, arg := range os.Args[1:] {
		s.Set(arg, fmt.Sprint(len(arg)))
	}
	os.Stdout.Write(s.Snapshot())
}
