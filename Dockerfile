# kpiledger in a FROM scratch image: nothing to pull, nothing but the
# program. The binary is static (CGO off), so it needs no libc; the ledger
# talks plain HTTP and embedded NATS, so it needs no CA certificates.
#
# Build it with `make image`, which compiles the binary into .docker/rootfs
# and runs `docker build` with the repository as context; .dockerignore
# sends the daemon only .docker/rootfs.
FROM scratch

COPY .docker/rootfs/kpiledger /kpiledger
# /tmp (mode 1777) for the Go runtime and libraries that want one; /data,
# owned by the unprivileged user below, is where a fresh named volume gets
# its ownership from.
COPY .docker/rootfs/tmp /tmp
COPY --chown=65532:65532 .docker/rootfs/data /data

USER 65532:65532
ENV KPILEDGER_DATA_DIR=/data \
    KPILEDGER_HTTP_ADDR=0.0.0.0:8080
VOLUME ["/data"]
# 8080 HTTP API; 6222 NATS cluster routes (cluster mode only).
EXPOSE 8080 6222

HEALTHCHECK --interval=5s --timeout=4s --start-period=60s --retries=3 \
    CMD ["/kpiledger", "healthcheck", "--url", "http://127.0.0.1:8080/readyz"]

ENTRYPOINT ["/kpiledger"]
CMD ["serve"]
