# A second Dockerfile in the same context (build.dockerfile).
FROM slipway/base:busybox
ARG STAMP=none
RUN echo "$STAMP" > /stamp
CMD ["sh", "-c", "exec sleep 3600"]
