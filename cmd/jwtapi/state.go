package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jwtapi/jwtapi/internal/proc"
)

// devState is what a running `jwtapi dev` writes to <state>/dev.json, so
// that the other commands (token, smoke --local, explain) find it without
// being told its addresses again.
type devState struct {
	// PID is the dev process; a state whose process is gone is stale.
	PID int `json:"pid"`
	// Issuer is the embedded issuer's URL ("" when none runs).
	Issuer string `json:"issuer,omitempty"`
	// IssuerAddr is the embedded issuer's host:port.
	IssuerAddr string `json:"issuerAddr,omitempty"`
	// CDKOut is the assembly being served.
	CDKOut string `json:"cdkOut"`
	// Console is the local console's URL ("" when off).
	Console string `json:"console,omitempty"`
}

const devStateFile = "dev.json"

func writeDevState(stateDir string, s devState) error {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(s, "", "  ")
	tmp := filepath.Join(stateDir, devStateFile+".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(stateDir, devStateFile))
}

// removeDevState removes the state, unless another dev has replaced it.
func removeDevState(stateDir string) {
	if s, err := readDevState(stateDir); err == nil && s.PID == os.Getpid() {
		os.Remove(filepath.Join(stateDir, devStateFile))
	}
}

// errNoDev means no `jwtapi dev` runs for this module.
var errNoDev = errors.New("jwtapi dev is not running in this module")

// readDevState returns the running dev's state, or an error wrapping
// errNoDev when there is none (or its process is gone).
func readDevState(stateDir string) (devState, error) {
	var s devState
	data, err := os.ReadFile(filepath.Join(stateDir, devStateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("%w (no %s)", errNoDev, filepath.Join(stateDir, devStateFile))
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("%s: %v", filepath.Join(stateDir, devStateFile), err)
	}
	if s.PID <= 0 || !proc.Alive(s.PID) {
		return s, fmt.Errorf("%w (the dev that wrote %s, process %d, has stopped)", errNoDev, filepath.Join(stateDir, devStateFile), s.PID)
	}
	return s, nil
}
