# kpiledger's build targets. `make image` is the one-line container build:
# no base image is pulled (the image is FROM scratch).

IMAGE ?= kpiledger:dev
GO    ?= go

.PHONY: build test image clean

# build: the program for this machine, into ./kpiledger.
build:
	$(GO) build -o kpiledger ./cmd/kpiledger

# test: what CI runs (.ci/run adds gofmt and vet).
test:
	$(GO) test -race ./...

# image: a static binary (CGO off, -trimpath) and the directories the
# image needs, in .docker/rootfs, then `docker build` of the FROM scratch
# Dockerfile. The staging directory is removed afterwards.
image:
	rm -rf .docker
	mkdir -p .docker/rootfs/data .docker/rootfs/tmp
	chmod 1777 .docker/rootfs/tmp
	# The ledger refuses a data directory others may write (its keys live
	# there), whatever the umask of the one building the image.
	chmod 700 .docker/rootfs/data
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o .docker/rootfs/kpiledger ./cmd/kpiledger
	docker build -t $(IMAGE) . || { rm -rf .docker; exit 1; }
	rm -rf .docker

clean:
	rm -rf .docker kpiledger
