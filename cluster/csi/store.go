package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// volume and snapshot records are JSON files written (atomically) only once their content is
// complete: a directory or tarball without its record is a half-done operation, redone on retry.
type volumeRecord struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	CapacityBytes  int64     `json:"capacityBytes"`
	Node           string    `json:"node"`
	SourceSnapshot string    `json:"sourceSnapshot,omitempty"`
	Created        time.Time `json:"created"`
}

type snapshotRecord struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	SourceVolumeID string    `json:"sourceVolumeId"`
	SizeBytes      int64     `json:"sizeBytes"`
	Node           string    `json:"node"`
	Created        time.Time `json:"created"`
}

type store struct {
	mu          sync.Mutex // one controller operation at a time (the sidecars retry)
	dataDir     string
	snapshotDir string
	node        string
}

var errNotFound = errors.New("not found")

// markNode leaves this node's mark in the snapshot store: a store where other nodes' marks show
// up is shared between nodes (one host directory mounted into every kind node).
func (s *store) markNode() error {
	return os.WriteFile(filepath.Join(s.snapshotDir, ".node-"+s.node), []byte(s.node+"\n"), 0o644)
}

func (s *store) shared() bool {
	marks, _ := filepath.Glob(filepath.Join(s.snapshotDir, ".node-*"))
	for _, m := range marks {
		if filepath.Base(m) != ".node-"+s.node {
			return true
		}
	}
	return false
}

// ids come from the external-provisioner and csi-snapshotter (pvc-<uid>, snapshot-<uid>);
// anything that could escape the data directories is refused.
func validID(id string) error {
	if id == "" || len(id) > 128 || strings.ContainsAny(id, "/\\\x00") || id == "." || id == ".." || strings.HasPrefix(id, ".") {
		return fmt.Errorf("invalid id %q", id)
	}
	return nil
}

func (s *store) volumePath(id string) string   { return filepath.Join(s.dataDir, id) }
func (s *store) volumeRecord(id string) string { return filepath.Join(s.dataDir, id+".json") }
func (s *store) snapshotTar(id string) string  { return filepath.Join(s.snapshotDir, id+".tgz") }
func (s *store) snapshotRec(id string) string  { return filepath.Join(s.snapshotDir, id+".json") }

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// writeJSON writes path atomically: a temporary file, fsync, rename, fsync of the directory.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *store) getVolume(id string) (*volumeRecord, error) {
	var v volumeRecord
	if err := readJSON(s.volumeRecord(id), &v); err != nil {
		return nil, err
	}
	return &v, nil
}

func (s *store) getSnapshot(id string) (*snapshotRecord, error) {
	var r snapshotRecord
	if err := readJSON(s.snapshotRec(id), &r); err != nil {
		return nil, err
	}
	if _, err := os.Stat(s.snapshotTar(id)); err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("snapshot %s has a record but no tarball %s: %w", id, s.snapshotTar(id), errNotFound)
		}
		return nil, err
	}
	return &r, nil
}

// createVolume makes the volume's directory (world-writable, like upstream's hostpath volumes,
// so that pods running as any user can write; fsGroup applies on top) and fills it from a
// snapshot tarball when one is given.
func (s *store) createVolume(v volumeRecord, snap *snapshotRecord) error {
	dir := s.volumePath(v.ID)
	// a directory without a record is the remains of an interrupted create: start over
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		return err
	}
	if snap != nil {
		if out, err := exec.Command("tar", "-xzf", s.snapshotTar(snap.ID), "-C", dir).CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("restoring snapshot %s into %s: %v: %s", snap.ID, dir, err, out)
		}
		if out, err := exec.Command("sync").CombinedOutput(); err != nil {
			return fmt.Errorf("sync after restoring %s: %v: %s", snap.ID, err, out)
		}
	}
	return writeJSON(s.volumeRecord(v.ID), v)
}

func (s *store) deleteVolume(id string) error {
	if err := os.RemoveAll(s.volumePath(id)); err != nil {
		return err
	}
	if err := os.Remove(s.volumeRecord(id)); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// createSnapshot writes a gzipped tarball of the volume's directory (as upstream's hostpath
// driver does with `tar czf`), fsyncs it, then its record.
func (s *store) createSnapshot(r snapshotRecord) error {
	tmp := filepath.Join(s.snapshotDir, "."+r.ID+".tgz.part")
	os.Remove(tmp)
	if out, err := exec.Command("tar", "-czf", tmp, "-C", s.volumePath(r.SourceVolumeID), ".").CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("archiving volume %s: %v: %s", r.SourceVolumeID, err, out)
	}
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, s.snapshotTar(r.ID)); err != nil {
		return err
	}
	return writeJSON(s.snapshotRec(r.ID), r)
}

func (s *store) deleteSnapshot(id string) error {
	for _, p := range []string{s.snapshotRec(id), s.snapshotTar(id)} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// listSnapshots returns every snapshot record in the snapshot directory, oldest first.
func (s *store) listSnapshots() ([]snapshotRecord, error) {
	names, err := filepath.Glob(filepath.Join(s.snapshotDir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []snapshotRecord
	for _, n := range names {
		id := strings.TrimSuffix(filepath.Base(n), ".json")
		r, err := s.getSnapshot(id)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
