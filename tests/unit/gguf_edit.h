// A GGUF file as editable parts, for tests and fuzz seeds that start from the downloaded models:
// read with the project's reader, change metadata or the tensor table, write back. The data
// section is not copied: write_sparse() leaves it as a hole of the original size (validation
// refuses a defect before any weight is read), shrink() builds a small model with real
// metadata and zero weights.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/model/gguf.h"

namespace test_support {

struct GgufEdit {
  struct Kv {
    std::string key;
    uint32_t type = 0;    // GgufType
    std::string payload;  // the value's bytes as stored after the type
  };
  struct Tensor {
    std::string name;
    std::vector<uint64_t> dims;
    uint32_t type = 0;
    uint64_t offset = 0;  // from the start of the data section
  };
  std::vector<Kv> kvs;
  std::vector<Tensor> tensors;
  uint64_t data_bytes = 0;  // size of the data section
  uint32_t alignment = 32;

  static std::string raw(const void* p, size_t n) {
    return std::string(static_cast<const char*>(p), n);
  }
  template <typename T>
  static std::string bytes(T v) {
    return raw(&v, sizeof v);
  }
  static std::string str(std::string_view s) { return bytes<uint64_t>(s.size()) + std::string(s); }

  static int scalar_size(uint32_t t) {
    static const int sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < 13 ? sizes[t] : 0;
  }

  static GgufEdit from(const core::model::GgufFile& f) {
    using core::model::GgufType;
    GgufEdit e;
    e.alignment = f.alignment();
    e.data_bytes = f.file_size() - f.data_offset();
    for (const auto& [key, v] : f.metadata()) {
      Kv kv{key, static_cast<uint32_t>(v.type), ""};
      if (v.type == GgufType::String) {
        kv.payload = str(v.str);
      } else if (v.type == GgufType::Array) {
        kv.payload = bytes<uint32_t>(static_cast<uint32_t>(v.elem_type)) + bytes<uint64_t>(v.count);
        if (v.elem_type == GgufType::String) {
          for (std::string_view s : v.strs) kv.payload += str(s);
        } else {
          const int sz = scalar_size(static_cast<uint32_t>(v.elem_type));
          if (sz == 0) throw std::runtime_error("nested arrays are not supported");
          kv.payload += raw(v.data, v.count * sz);
        }
      } else {
        const int sz = scalar_size(kv.type);
        if (v.type == GgufType::F32) {
          kv.payload = bytes<float>(static_cast<float>(v.f));
        } else if (v.type == GgufType::F64) {
          kv.payload = bytes<double>(v.f);
        } else {
          const uint64_t u = v.u;
          kv.payload = raw(&u, sz);  // little-endian: the low bytes
        }
      }
      e.kvs.push_back(std::move(kv));
    }
    for (const auto& t : f.tensors())
      e.tensors.push_back({t.name, std::vector<uint64_t>(t.dims.begin(), t.dims.end()),
                           static_cast<uint32_t>(t.type), t.offset});
    return e;
  }

  Kv* find(const std::string& key) {
    for (Kv& kv : kvs)
      if (kv.key == key) return &kv;
    return nullptr;
  }
  Tensor* tensor(const std::string& name) {
    for (Tensor& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
  void set(const std::string& key, uint32_t type, std::string payload) {
    if (Kv* kv = find(key)) {
      kv->type = type;
      kv->payload = std::move(payload);
    } else {
      kvs.push_back({key, type, std::move(payload)});
    }
  }
  void set_u32(const std::string& k, uint32_t v) { set(k, 4, bytes(v)); }
  void set_i32(const std::string& k, int32_t v) { set(k, 5, bytes(v)); }
  void set_u64(const std::string& k, uint64_t v) { set(k, 10, bytes(v)); }
  void set_f32(const std::string& k, float v) { set(k, 6, bytes(v)); }
  void set_str(const std::string& k, const std::string& v) { set(k, 8, str(v)); }
  void erase(const std::string& k) {
    for (size_t i = 0; i < kvs.size(); ++i)
      if (kvs[i].key == k) kvs.erase(kvs.begin() + i);
  }

  // Arrays: decoded to edit, encoded back.
  std::vector<std::string> strings(const std::string& k) {
    const Kv* kv = find(k);
    std::vector<std::string> out;
    const char* p = kv->payload.data() + 4;
    uint64_t n;
    std::memcpy(&n, p, 8);
    p += 8;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t len;
      std::memcpy(&len, p, 8);
      out.emplace_back(p + 8, len);
      p += 8 + len;
    }
    return out;
  }
  void set_strings(const std::string& k, const std::vector<std::string>& v) {
    std::string p = bytes<uint32_t>(8) + bytes<uint64_t>(v.size());
    for (const std::string& s : v) p += str(s);
    set(k, 9, std::move(p));
  }
  template <typename T>
  std::vector<T> numbers(const std::string& k) {  // the stored element type must be T
    const Kv* kv = find(k);
    uint64_t n;
    std::memcpy(&n, kv->payload.data() + 4, 8);
    std::vector<T> out(n);
    std::memcpy(out.data(), kv->payload.data() + 12, n * sizeof(T));
    return out;
  }
  template <typename T>
  void set_numbers(const std::string& k, uint32_t elem_type, const std::vector<T>& v) {
    set(k, 9,
        bytes<uint32_t>(elem_type) + bytes<uint64_t>(v.size()) +
            raw(v.data(), v.size() * sizeof(T)));
  }

  // Header, tensor infos and the padding up to the data section.
  std::string header() const {
    std::string b =
        "GGUF" + bytes<uint32_t>(3) + bytes<uint64_t>(tensors.size()) + bytes<uint64_t>(kvs.size());
    for (const Kv& kv : kvs) b += str(kv.key) + bytes<uint32_t>(kv.type) + kv.payload;
    for (const Tensor& t : tensors) {
      b += str(t.name) + bytes<uint32_t>(static_cast<uint32_t>(t.dims.size()));
      for (uint64_t d : t.dims) b += bytes<uint64_t>(d);
      b += bytes<uint32_t>(t.type) + bytes<uint64_t>(t.offset);
    }
    b.resize((b.size() + alignment - 1) / alignment * alignment, '\0');
    return b;
  }

  // The header, then a hole of data_bytes (reads as zeros, takes no disk).
  void write_sparse(const std::string& path) const {
    const std::string h = header();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) throw std::runtime_error("cannot write " + path);
    const bool ok = ::write(fd, h.data(), h.size()) == static_cast<ssize_t>(h.size()) &&
                    ::ftruncate(fd, static_cast<off_t>(h.size() + data_bytes)) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + path);
  }
};

}  // namespace test_support
