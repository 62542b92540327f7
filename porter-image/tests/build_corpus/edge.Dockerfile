ARG BASE=busybox
FROM $BASE
ENV LEGACY value with spaces
LABEL one=1 two="2 2"
COPY files /etc/
COPY --chown=1000:1000 files /new/deep/dir/
COPY files/*.txt /globbed/
RUN ln -s /etc/motd /motd-link && ln /bin/busybox /bb-hard && chmod 4755 /bb-hard \
 && mkdir -m 1777 /sticky && touch -d @0 /sticky/old
WORKDIR relative
COPY files/hello.txt ./here
ENTRYPOINT exec sh
