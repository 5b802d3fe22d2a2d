// Files for the program, the same calls in both modes. On bare metal they are plain libc calls
// (syscalls -> FAT16 on the boot disk). Hosted, after use_image("disk.img"), they run the very same
// FAT16 code on partition 1 of that image file; without an image they use the host's files.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

namespace bf::vfs {

// Hosted only: serve every vfs call from the FAT16 partition of a BareFlow disk image.
// False (and a message on stderr naming the problem) if the image or its FAT16 is unusable.
bool use_image(const char *img_path);
bool using_image();

FILE *fopen(const char *path, const char *mode);  // NULL + errno, like fopen
int mkdir(const char *path);                      // 0, or -errno (-EEXIST if it exists)
int unlink(const char *path);
int rename(const char *from, const char *to);     // replaces `to`
int stat_size(const char *path, uint64_t *size, bool *is_dir);
// Calls fn for each entry of a directory (not "." and ".."); 0 or -errno.
int list(const char *dir, void (*fn)(const char *name, bool is_dir, uint64_t size, void *ctx),
         void *ctx);
// Writes a file so that it is never torn: a temporary file, flushed to disk, renamed over `path`.
int write_atomic(const char *path, const void *data, size_t n);
int sync();                                       // everything on disk (FAT clean bit set)

}  // namespace bf::vfs
