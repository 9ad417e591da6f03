package dev.byop.preview.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * The local image store images are shipped from: its layer list and a streamed {@code docker save} archive.
 *
 * <p>A small seam so that the Engine API client of {@code byop-docker} can replace the CLI-based default.
 */
public interface LocalImages {

    /** Identity of a local image: its id and the diff ids of its layers, lowest first. */
    record LocalImage(String reference, String id, List<String> diffIds) {}

    /** Looks up an image by reference; raises {@link SshException} when it does not exist locally. */
    LocalImage inspect(String reference) throws IOException;

    /** A streamed save archive of the image (tags included); closing the stream early aborts the save. */
    InputStream save(String reference) throws IOException;
}
