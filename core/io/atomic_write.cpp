#include "core/io/atomic_write.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace core {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw IoError("cannot " + what + " '" + path + "': " + std::strerror(err));
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view bytes) {
  // Same folder as the target, so rename() stays on one file system and is atomic.
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = mkstemp(name.data());
  if (fd < 0) fail("create a temporary file for", path, errno);
  const std::string tmp(name.data());
  auto cleanup_fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(what, path, err);
  };
  // mkstemp creates 0600; scenes and figures are ordinary user files.
  if (fchmod(fd, 0644) != 0) cleanup_fail("set permissions of");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      cleanup_fail("write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) cleanup_fail("flush");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("close", path, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("replace", path, err);
  }
}

std::string read_file(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "': " + std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    const auto got = static_cast<size_t>(in.gcount());
    if (got > max_bytes - out.size())
      throw IoError("'" + path + "' is larger than " + std::to_string(max_bytes >> 20) +
                    " MiB (the limit for files read whole)");
    out.append(buf, got);
  }
  if (in.bad()) throw IoError("cannot read '" + path + "'");
  return out;
}

}  // namespace core
