package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"github.com/kubernetes-csi/csi-test/v5/pkg/sanity"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestSanity runs the CSI conformance checks (csi-test's sanity package) against the driver on
// a temporary socket and directories. NodePublish bind-mounts, so it needs root; skipped else.
func TestSanity(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the node checks bind-mount: run as root")
	}
	dir := t.TempDir()
	c := config{
		driverName:  "hostpath.csi.kubedrill.io",
		nodeID:      "sanity-node",
		endpoint:    "unix://" + filepath.Join(dir, "csi.sock"),
		dataDir:     filepath.Join(dir, "volumes"),
		snapshotDir: filepath.Join(dir, "snapshots"),
		topologyKey: "topology.hostpath.csi.kubedrill.io/node",
	}
	for _, d := range []string{c.dataDir, c.snapshotDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d := &driver{cfg: c, store: &store{dataDir: c.dataDir, snapshotDir: c.snapshotDir, node: c.nodeID}}
	// the shared-store mode (as with a kind extraMount): a missing snapshot is NotFound, as the
	// spec wants; a node-local store answers ResourceExhausted instead (TestNodeLocalRestore...)
	if err := d.store.markNode(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.snapshotDir, ".node-other"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := serve(c.endpoint, func(s *grpc.Server) {
		csi.RegisterIdentityServer(s, d)
		csi.RegisterControllerServer(s, d)
		csi.RegisterNodeServer(s, d)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()

	cfg := sanity.NewTestConfig()
	cfg.Address = c.endpoint
	cfg.TargetPath = filepath.Join(dir, "target")
	cfg.StagingPath = filepath.Join(dir, "staging")
	cfg.TestVolumeSize = 10 << 20
	cfg.IDGen = &sanity.DefaultIDGenerator{}
	sanity.Test(t, cfg)
}

// A node-local store sends a restore of a snapshot it does not hold back to the scheduler.
func TestNodeLocalRestoreOfAForeignSnapshotIsResourceExhausted(t *testing.T) {
	dir := t.TempDir()
	c := config{nodeID: "a", dataDir: filepath.Join(dir, "v"), snapshotDir: filepath.Join(dir, "s"), topologyKey: "k"}
	os.MkdirAll(c.dataDir, 0o755)
	os.MkdirAll(c.snapshotDir, 0o755)
	d := &driver{cfg: c, store: &store{dataDir: c.dataDir, snapshotDir: c.snapshotDir, node: c.nodeID}}
	if err := d.store.markNode(); err != nil {
		t.Fatal(err)
	}
	_, err := d.CreateVolume(context.Background(), &csi.CreateVolumeRequest{
		Name: "pvc-1",
		VolumeCapabilities: []*csi.VolumeCapability{{AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
			AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER}}},
		VolumeContentSource: &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
			Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: "snapshot-elsewhere"}}},
	})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("want ResourceExhausted, got %v", err)
	}
}
