// GGUF reader: maps a file read-only and parses its header, metadata and tensor table.
// Every count, length and offset is checked against the file size before it is used, so a
// hostile file cannot make us read past the end or allocate more than the file could hold.
// Metadata strings, arrays and tensor data are views into the mapping: the GgufFile must
// outlive them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// Thrown for every problem with a model file; the message starts with the file path.
struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace model {

// GGUF metadata value types (gguf spec numbering).
enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};
const char* gguf_type_name(GgufType t);

// ggml tensor types (ggml.h numbering); only the ones we can size are accepted at parse time.
enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
};

struct TypeTraits {
  const char* name;
  int block_elems;  // elements per block (1 for plain types)
  int block_bytes;  // bytes per block
};
// Returns false for ids this reader does not know (the caller reports the file and tensor).
bool tensor_type_traits(uint32_t type_id, TypeTraits* out);
const char* tensor_type_name(TensorType t);

// One metadata value. Scalars are widened into u/i/f; arrays of numbers stay as a view of
// raw little-endian bytes (`data`, `count` elements of `elem_type`); arrays of strings are
// views into the mapping.
struct GgufValue {
  GgufType type = GgufType::U8;
  uint64_t u = 0;                      // unsigned and bool scalars
  int64_t i = 0;                       // signed scalars (also set for unsigned ones that fit)
  double f = 0;                        // float scalars (also set for every numeric scalar)
  std::string_view str;                // String
  GgufType elem_type = GgufType::U8;   // Array element type
  uint64_t count = 0;                  // Array length
  const uint8_t* data = nullptr;       // Array of numbers: raw elements
  std::vector<std::string_view> strs;  // Array of strings
};

struct TensorInfo {
  std::string name;
  TensorType type = TensorType::F32;
  std::vector<int64_t> dims;  // ggml order: dims[0] is the contiguous (row) length
  uint64_t offset = 0;        // from the start of the data section
  uint64_t n_elems = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the data section (read into memory, else mapped)
  int64_t rows() const { return dims.empty() ? 0 : static_cast<int64_t>(n_elems / dims[0]); }
};

class GgufFile {
 public:
  // Maps and parses `path`. Throws ModelError("<path>: <problem>") on any defect.
  explicit GgufFile(const std::string& path);
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  // The layout and the whole metadata table, for rewriting a file (tests/unit/gguf_edit.h and
  // the fuzz seed maker).
  uint64_t file_size() const { return size_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  const std::map<std::string, GgufValue>& metadata() const { return kv_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }

  bool has(const std::string& key) const { return kv_.count(key) != 0; }
  const GgufValue* find(const std::string& key) const;
  const TensorInfo* find_tensor(const std::string& name) const;
  const TensorInfo& tensor(const std::string& name) const;  // throws when missing

  // Typed getters: throw ModelError naming the file and key when missing or mistyped.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  double get_float(const std::string& key, double fallback) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  std::vector<float> get_float_array(const std::string& key) const;
  std::vector<int32_t> get_int_array(const std::string& key) const;

  [[noreturn]] void fail(const std::string& problem) const;

  // Reads the tensor data (the file opened by the constructor, so the same bytes) into
  // anonymous memory advised for transparent huge pages and points every tensor there: a
  // decode step streams every weight, one TLB entry per 2 MB instead of per 4 KB page.
  // Model::load calls it once the metadata has been checked; anything short of a full read
  // keeps the mapping (the same bytes, 4 KB pages). Idempotent.
  void read_data_into_memory();

 private:
  std::string path_;
  const uint8_t* base_ = nullptr;       // the file's mapping: header, metadata, tensor infos
  const uint8_t* data_copy_ = nullptr;  // the data section in huge-page memory, when read
  int fd_ = -1;                         // the file, open until its data is read
  uint64_t size_ = 0;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::map<std::string, GgufValue> kv_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

}  // namespace model
}  // namespace core
