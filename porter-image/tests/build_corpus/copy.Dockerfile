ARG BASE=busybox
FROM $BASE
COPY --chown=1000:1000 files /home/app/
COPY --chmod=0755 files/run.sh /usr/local/bin/
COPY files/hello.txt files/run.sh /multi/
ADD files.tar /unpacked/
COPY files/link /link
