// Command workerpool serves SDK workers to a portable Beam runner — a
// standalone Prism, Flink or Spark job server — whose jobs run with
// --environment_type EXTERNAL --environment_config HOST:PORT: for each
// worker the runner asks for, it starts the pipeline's binary (the one the
// job staged, or --binary) as a separate process, and stops it, deletes its
// files and reaps it when the runner says so or the job ends. Run one on
// every machine the runner's workers run on, in the environment the
// workers need (HTTP secrets, cloud credentials).
//
//	go run ./examples/workerpool --port 50000
//	zarrforge --recipe r.yaml --runner universal --endpoint localhost:8073 \
//	    --environment_type EXTERNAL --environment_config localhost:50000
//
// See docs/portable.md. On SIGINT or SIGTERM it stops its workers and
// exits.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc"

	"github.com/zarrforge/zarrforge/internal/workerpool"
)

var (
	listen = flag.String("listen", "localhost:50000", "address to serve on (host:port; port 0 picks a free one); "+
		"a host other than localhost serves other machines, unauthenticated, as Beam's pools do")
	binary = flag.String("binary", "", "the pipeline binary to run as workers (default: the one each job staged)")
	dir    = flag.String("dir", "", "where workers' files go while they run (default: the system's temporary directory)")
	grace  = flag.Duration("grace", workerpool.DefaultGrace, "how long a stopped worker has to exit before it is killed")
)

func main() {
	flag.Parse()
	if err := serve(); err != nil {
		fmt.Fprintf(os.Stderr, "workerpool: error: %v\n", err)
		os.Exit(1)
	}
}

func serve() error {
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	pool := workerpool.New(workerpool.Config{Binary: *binary, Dir: *dir, Grace: *grace})
	srv := grpc.NewServer()
	fnpb.RegisterBeamFnExternalWorkerPoolServer(srv, pool)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stop
		pool.Close() // before the server: StopWorker calls may be waiting
		srv.Stop()
	}()
	fmt.Fprintf(os.Stderr, "workerpool: serving on %s\n", lis.Addr())
	return srv.Serve(lis)
}
