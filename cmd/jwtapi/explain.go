package main

import (
	"errors"
	"io"
)

func runExplain(args []string, stdout, stderr io.Writer) error {
	return errors.New("explain: not yet")
}
