ARG BASE=busybox
FROM $BASE AS build
RUN mkdir /out && echo built > /out/artifact && chmod 0640 /out/artifact
FROM $BASE AS unused
RUN exit 1
FROM $BASE
COPY --from=build /out/artifact /usr/share/artifact
COPY --from=build /out /copied-dir
CMD ["cat", "/usr/share/artifact"]
