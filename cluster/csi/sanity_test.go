package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"github.com/kubernetes-csi/csi-test/v5/pkg/sanity"
	"google.golang.org/grpc"
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
	_ = context.Background
}
