# build.no_cache: the RUN writes a new random stamp whenever it runs; the COPY after it
# changes the image without touching the RUN's cache key.
FROM slipway/base:busybox
ARG KIND=none
RUN echo "$KIND" > /kind && cat /proc/sys/kernel/random/uuid > /stamp
COPY content /srv/content
CMD ["sh", "-c", "exec sleep 3600"]
