// ir/file_io.hpp: the file-system operations ptq's readers and writers share -- an atomic replace
// of a file, a whole-file read into a 64-byte aligned Buffer, and a read-only mapping of a file
// (ir::load_model and io::read_tflite use the weights in place).
//
// write_file_atomically is what ir::save_model and io::write_npy use: a temporary file in the
// target's directory is written, flushed to disk (fsync), renamed over the target, then the
// directory is fsync'ed (best effort). On any failure the temporary is removed and an existing file
// at the target is left untouched. An existing file's permission bits are kept; a new file gets
// 0666 minus the umask. A symbolic link at the target is replaced by the new file, not followed (as
// rename(2) does). A reader that mapped the old file keeps seeing it: rename never modifies the
// old inode.
//
// It lives on the ir floor, not in core, because it needs POSIX (open/fsync/rename; a plain stdio
// and std::filesystem fallback elsewhere) and core stays standard-library only; ir/format.hpp is its
// lowest user, and io/ sits above ir.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ptq/core/config.hpp"
#include "ptq/core/status.hpp"
#include "ptq/ir/graph.hpp"

#if defined(__unix__) || defined(__APPLE__)
#define PTQ_FILE_IO_POSIX 1
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#define PTQ_FILE_IO_POSIX 0
#include <filesystem>
#include <system_error>
#endif

PTQ_NAMESPACE_BEGIN
namespace ir {

namespace file_io_detail {
inline std::string errno_text(int e) { return std::strerror(e); }
}  // namespace file_io_detail

// Replaces the file at `path` with the bytes `emit` produces. `emit(sink)` calls
// `sink(const uint8_t* data, std::size_t size)` (which returns false once a write failed) as often
// as it likes, and returns false if it stopped because a sink call failed. Errors are io_error
// "<context>: <what> '<temporary or path>': <reason>".
template <class Emit>
Status write_file_atomically(const std::string& path, const std::string& context, Emit&& emit) {
  static std::atomic<unsigned> counter{0};
#if PTQ_FILE_IO_POSIX
  const std::size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = path + "." + std::to_string(static_cast<long>(::getpid())) + "." + std::to_string(counter++) + ".tmp";
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    return io_error(context + ": cannot create the temporary file '" + tmp + "': " + file_io_detail::errno_text(errno));
  }
  const auto abandon = [&](const std::string& what, int e) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return io_error(context + ": " + what + " '" + tmp + "': " + file_io_detail::errno_text(e));
  };
  struct stat existing;
  if (::stat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) {
    if (::fchmod(fd, existing.st_mode & 07777) != 0) return abandon("cannot set the permissions of", errno);
  }
  int write_errno = 0;
  const bool written = emit([&](const uint8_t* d, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd, d, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        write_errno = w < 0 ? errno : EIO;
        return false;
      }
      d += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  });
  if (!written) return abandon("cannot write", write_errno);
  if (::fsync(fd) != 0) return abandon("cannot flush", errno);
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) return abandon("cannot close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return io_error(context + ": cannot rename '" + tmp + "' over it: " + file_io_detail::errno_text(e));
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC);  // make the rename durable
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
#else
  namespace fs = std::filesystem;
  const std::string tmp = path + "." + std::to_string(counter++) + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return io_error(context + ": cannot create the temporary file '" + tmp + "'");
  const bool written = emit([&](const uint8_t* d, std::size_t n) { return std::fwrite(d, 1, n, f) == n; });
  const bool flushed = written && std::fflush(f) == 0;
  const bool closed = std::fclose(f) == 0;
  std::error_code ec;
  if (!(written && flushed && closed)) {
    fs::remove(tmp, ec);
    return io_error(context + ": cannot write the temporary file '" + tmp + "'");
  }
  fs::rename(tmp, path, ec);  // replaces an existing file (MoveFileEx with REPLACE_EXISTING on Windows)
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return io_error(context + ": cannot rename '" + tmp + "' over it: " + ec.message());
  }
  return {};
#endif
}

// The whole file at `path` in a new 64-byte aligned Buffer (read, not mapped: the caller owns the
// bytes). Errors: not_found for a missing file, io_error otherwise, as "<context>: <reason>".
inline Result<Buffer> read_file(const std::string& path, const std::string& context) {
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
#if PTQ_FILE_IO_POSIX
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    return Status(e == ENOENT ? StatusCode::kNotFound : StatusCode::kIo, context + ": " + file_io_detail::errno_text(e));
  }
  struct stat st;
  int stat_errno = ::fstat(fd, &st) != 0 ? errno : 0;
  if (stat_errno == 0 && S_ISDIR(st.st_mode)) stat_errno = EISDIR;
  if (stat_errno != 0) {
    ::close(fd);
    return io_error(context + ": " + file_io_detail::errno_text(stat_errno));
  }
  if (S_ISREG(st.st_mode)) {
    // The size at open time is read straight into the aligned buffer; a file that shrank meanwhile
    // gives what was there, and one that grew gives its first st_size bytes.
    Buffer whole = Buffer::allocate(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < whole.size()) {
      const ssize_t n = ::read(fd, whole.mutable_data() + got, whole.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int e = errno;
        ::close(fd);
        return io_error(context + ": " + file_io_detail::errno_text(e));
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (got == whole.size()) return whole;
    return Buffer::copy_of(whole.data(), got);
  }
  for (;;) {  // a pipe or another special file: read until the end
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return io_error(context + ": " + file_io_detail::errno_text(e));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  ::close(fd);
#else
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found(context + ": no such file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return io_error(context + ": cannot open the file");
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return io_error(context + ": cannot read the file");
#endif
  return Buffer::copy_of(bytes.data(), bytes.size());
}

// A whole file's bytes, mapped read-only where possible (else read into an aligned buffer); `owner`
// keeps them alive (a mapping is released with the last owner). Do not truncate a mapped file in
// place (write_file_atomically never does: it replaces the file by rename).
struct FileBytes {
  const uint8_t* data = nullptr;
  std::size_t size = 0;
  std::shared_ptr<const void> owner;
};

// Maps the file at `path` (falls back to reading it where it cannot be mapped: empty, special
// files); `populate` asks the kernel to read every page up front. Errors: not_found for a missing
// file, io_error otherwise, as "<context>: <reason>".
inline Result<FileBytes> read_file_bytes(const std::string& path, const std::string& context, bool populate = false) {
#if PTQ_FILE_IO_POSIX
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    return Status(e == ENOENT ? StatusCode::kNotFound : StatusCode::kIo, context + ": " + file_io_detail::errno_text(e));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return io_error(context + ": " + file_io_detail::errno_text(e));
  }
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    const auto size = static_cast<std::size_t>(st.st_size);
    int map_flags = MAP_PRIVATE;
#if defined(MAP_POPULATE)
    if (populate) map_flags |= MAP_POPULATE;
#endif
    void* p = ::mmap(nullptr, size, PROT_READ, map_flags, fd, 0);
    if (p != MAP_FAILED) {
      ::close(fd);
      std::shared_ptr<const void> mapping(p, [size](const void* q) { ::munmap(const_cast<void*>(q), size); });
      return FileBytes{static_cast<const uint8_t*>(p), size, std::move(mapping)};
    }
  }
  ::close(fd);
#endif
  (void)populate;
  Result<Buffer> read = read_file(path, context);
  if (!read.ok()) return read.status();
  auto owned = std::make_shared<Buffer>(std::move(read).value());
  return FileBytes{owned->data(), owned->size(), owned};
}

}  // namespace ir
PTQ_NAMESPACE_END
