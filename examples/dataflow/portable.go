package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"

	"github.com/zarrforge/zarrforge/recipes"
)

// sharedFS is the user's word that a runner's workers see this machine's
// files, wherever the runner says they run.
var sharedFS = flag.Bool("shared_filesystem", false,
	"the runner's workers share this machine's filesystem: allow local inputs, cache and target with a job server or worker pool on another machine")

// placement is where a job's workers run, as the runner flags say.
type placement struct {
	runner string
	// inProcess: the workers are this process (the direct runner, Prism
	// or a job server with loopback workers).
	inProcess bool
	// jobServer: the job runs on a job server this program submits it to
	// and watches (--endpoint), whose workers log there, not here.
	jobServer bool
	// remote names what runs the workers elsewhere ("" when they run on
	// this machine): a job server, a worker pool or containers.
	remote string
}

// placementOf reads the runner flags.
func placementOf(runner string) placement {
	env := strings.ToLower(*jobopts.EnvironmentType)
	p := placement{runner: runner}
	switch {
	case runner == "direct":
		p.inProcess = true
	case runner == "dataflow":
		p.remote = "Dataflow"
	default: // prism, universal, flink, spark: through a job server
		p.jobServer = *jobopts.Endpoint != ""
		loopback := env == "loopback" || (env == "" && runner == "prism" && !p.jobServer)
		p.inProcess = loopback
		switch {
		case p.jobServer && !isLoopbackAddr(*jobopts.Endpoint) && !loopback:
			p.remote = "the job server at " + *jobopts.Endpoint
		case env == "external" && !isLoopbackAddr(*jobopts.EnvironmentConfig):
			p.remote = "the worker pool at " + *jobopts.EnvironmentConfig
		case env == "docker" || (env == "" && !loopback):
			p.remote = "containers (--environment_type DOCKER)"
		}
	}
	return p
}

// outOfProcess reports whether the workers are other processes than this.
func (p placement) outOfProcess() bool { return !p.inProcess }

// isLoopbackAddr reports whether host:port (or a bare host) is this
// machine's loopback: localhost or a loopback IP.
func isLoopbackAddr(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkPlacement refuses, before anything is submitted, a job whose
// workers run elsewhere while its inputs, cache or target are this
// machine's files, which those workers cannot see (unless
// --shared_filesystem says they can). Dataflow needs gs:// for the
// target and cache, and remote inputs, whatever the flag says.
func checkPlacement(p placement, r recipes.Recipe) error {
	if p.remote == "" || (*sharedFS && p.runner != "dataflow") {
		return nil
	}
	if p.runner == "dataflow" {
		return checkDataflow(r)
	}
	hint := " (or say that they share this machine's filesystem with --shared_filesystem)"
	where := "its workers run on " + p.remote
	if isLocal(r.Target.URL) {
		return fmt.Errorf("recipe target.url: %s is a local path, but %s: give a URL they can reach%s", r.Target.URL, where, hint)
	}
	if r.Cache != nil && isLocal(r.Cache.URL) {
		return fmt.Errorf("recipe cache.url: %s is a local path, but %s: give a URL they can reach%s", r.Cache.URL, where, hint)
	}
	if isLocal(r.Pattern.Template) {
		return fmt.Errorf("recipe pattern.template: %s names local files, but %s: give URLs they can reach%s", r.Pattern.Template, where, hint)
	}
	return nil
}

// checkDataflow refuses a Dataflow job whose target or cache is not in a
// bucket (Cloud Storage, or S3 with credentials on the workers), or whose
// inputs are local files.
func checkDataflow(r recipes.Recipe) error {
	if !inBucket(r.Target.URL) {
		return fmt.Errorf("recipe target.url: on Dataflow the target must be a gs:// (or s3://) URL, not %s", r.Target.URL)
	}
	if r.Cache != nil && r.Cache.URL != "" && !inBucket(r.Cache.URL) {
		return fmt.Errorf("recipe cache.url: on Dataflow the cache must be a gs:// (or s3://) URL, not %s", r.Cache.URL)
	}
	if isLocal(r.Pattern.Template) {
		return fmt.Errorf("recipe pattern.template: on Dataflow the inputs must be gs://, s3:// or http(s):// URLs that workers can read, not %s", r.Pattern.Template)
	}
	return nil
}

// inBucket reports whether url names a place in a Cloud Storage or S3
// bucket.
func inBucket(url string) bool {
	return strings.HasPrefix(url, "gs://") || strings.HasPrefix(url, "s3://")
}

// isLocal reports whether url names this machine's files: a plain path or
// a file:// URL.
func isLocal(url string) bool {
	return url != "" && (!strings.Contains(url, "://") || strings.HasPrefix(url, "file://"))
}

// defaultWorkerBinary makes this program the workers' binary when they are
// other processes and no --worker_binary was given: Beam's Go SDK would
// otherwise try to compile the program from source, which an installed
// binary has not got. Only a linux/amd64 build can be (Beam's workers run
// linux/amd64); elsewhere --worker_binary must name one.
func defaultWorkerBinary(p placement) error {
	if !p.outOfProcess() || p.runner == "dataflow" || *jobopts.WorkerBinary != "" {
		return nil
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return fmt.Errorf("--worker_binary: the workers run linux/amd64 binaries and this program is %s/%s: "+
			"build one (GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build ./examples/dataflow) and name it", runtime.GOOS, runtime.GOARCH)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--worker_binary: this program cannot find itself (%v): name the workers' binary", err)
	}
	*jobopts.WorkerBinary = self
	return nil
}
