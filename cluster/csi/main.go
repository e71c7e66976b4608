// kubedrill-csi: kubedrill's small CSI hostpath driver for the kind cluster.
//
// One process per node (a DaemonSet) serves the CSI Identity, Controller and Node services on
// one socket, for the external-provisioner and csi-snapshotter sidecars running beside it in
// --node-deployment mode, and registers itself with the kubelet through the plugin registration
// socket (what node-driver-registrar does). Volumes are directories on the node; snapshots are
// gzipped tarballs of a volume, as in the upstream csi-driver-host-path.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
)

var version = "dev"

type config struct {
	driverName  string
	nodeID      string
	endpoint    string // CSI socket, as seen by this container
	kubeletPath string // the same socket, as the kubelet sees it on the node
	regDir      string // kubelet's plugins_registry, mounted in this container
	dataDir     string // volumes: <dataDir>/<id>/ and <dataDir>/<id>.json
	snapshotDir string // snapshots: <snapshotDir>/<id>.tgz and <id>.json
	topologyKey string
	readyFile   string // written once the kubelet confirms the registration
}

func main() {
	var c config
	flag.StringVar(&c.driverName, "driver-name", "hostpath.csi.kubedrill.io", "CSI driver name")
	flag.StringVar(&c.nodeID, "nodeid", os.Getenv("NODE_NAME"), "this node's name (default $NODE_NAME)")
	flag.StringVar(&c.endpoint, "endpoint", "unix:///csi/csi.sock", "CSI endpoint")
	flag.StringVar(&c.kubeletPath, "kubelet-registration-path", "", "the CSI socket's path on the node, for the kubelet (empty: do not register)")
	flag.StringVar(&c.regDir, "registration-dir", "/registration", "the kubelet's plugins_registry directory")
	flag.StringVar(&c.dataDir, "data-dir", "/csi-data-dir", "where volumes live")
	flag.StringVar(&c.snapshotDir, "snapshot-dir", "/csi-snapshots", "where snapshot tarballs live")
	flag.StringVar(&c.topologyKey, "topology-key", "topology.hostpath.csi.kubedrill.io/node", "topology key naming this node")
	flag.StringVar(&c.readyFile, "ready-file", "", "file written once the kubelet has registered the driver (for a readiness probe)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		return
	}
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	if c.nodeID == "" {
		log.Fatal("--nodeid (or $NODE_NAME) is required")
	}
	for _, d := range []string{c.dataDir, c.snapshotDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			log.Fatalf("creating %s: %v", d, err)
		}
	}
	d := &driver{cfg: c, store: &store{dataDir: c.dataDir, snapshotDir: c.snapshotDir, node: c.nodeID}}
	if err := d.store.markNode(); err != nil {
		log.Fatalf("marking the snapshot store %s: %v", c.snapshotDir, err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	csiSrv, err := serve(c.endpoint, func(s *grpc.Server) {
		csi.RegisterIdentityServer(s, d)
		csi.RegisterControllerServer(s, d)
		csi.RegisterNodeServer(s, d)
	})
	if err != nil {
		log.Fatalf("serving CSI on %s: %v", c.endpoint, err)
	}
	log.Printf("kubedrill-csi %s: driver %s on node %s, CSI on %s, volumes in %s, snapshots in %s (%s)",
		version, c.driverName, c.nodeID, c.endpoint, c.dataDir, c.snapshotDir,
		map[bool]string{true: "shared with other nodes", false: "node-local so far"}[d.store.shared()])

	if c.readyFile != "" {
		os.Remove(c.readyFile)
	}
	var regSrv *grpc.Server
	var regSock string
	if c.kubeletPath != "" {
		regSock = filepath.Join(c.regDir, c.driverName+"-reg.sock")
		regSrv, err = serve("unix://"+regSock, func(s *grpc.Server) { registerWithKubelet(s, c) })
		if err != nil {
			log.Fatalf("serving the kubelet registration socket %s: %v", regSock, err)
		}
		log.Printf("registration socket %s: the kubelet will find the driver at %s", regSock, c.kubeletPath)
	}

	<-ctx.Done()
	log.Print("stopping")
	if regSrv != nil {
		regSrv.Stop()
		os.Remove(regSock)
	}
	if c.readyFile != "" {
		os.Remove(c.readyFile)
	}
	csiSrv.GracefulStop()
}

// serve listens on a unix:// (or tcp://) endpoint, removing a stale socket first.
func serve(endpoint string, register func(*grpc.Server)) (*grpc.Server, error) {
	proto, addr, ok := strings.Cut(endpoint, "://")
	if !ok {
		return nil, fmt.Errorf("endpoint %q is not unix:///path or tcp://host:port", endpoint)
	}
	if proto == "unix" {
		if err := os.MkdirAll(filepath.Dir(addr), 0o750); err != nil {
			return nil, err
		}
		if err := os.Remove(addr); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	l, err := net.Listen(proto, addr)
	if err != nil {
		return nil, err
	}
	s := grpc.NewServer(grpc.UnaryInterceptor(logCalls))
	register(s)
	go func() {
		if err := s.Serve(l); err != nil {
			log.Fatalf("gRPC server on %s: %v", endpoint, err)
		}
	}()
	return s, nil
}

// logCalls logs every call but the frequent probes, and every error.
func logCalls(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	quiet := strings.HasSuffix(info.FullMethod, "/Probe") || strings.HasSuffix(info.FullMethod, "Capabilities") ||
		strings.HasSuffix(info.FullMethod, "/GetPluginInfo")
	if !quiet {
		log.Printf("%s %v", info.FullMethod, req)
	}
	resp, err := h(ctx, req)
	if err != nil {
		log.Printf("%s failed: %v", info.FullMethod, err)
	}
	return resp, err
}
