#include "core/model/catalog.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/io/assets.h"
#include "core/io/atomic_write.h"
#include "core/model/gguf.h"

namespace core::model {
namespace {

using nlohmann::json;

std::string field(const json& e, const char* key, const std::string& where) {
  const auto it = e.find(key);
  if (it == e.end() || !it->is_string() || it->get<std::string>().empty())
    throw ModelError(where + ": '" + key + "' must be a non-empty string");
  return it->get<std::string>();
}

bool is_sha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

CatalogModel parse_entry(const json& e, const std::string& where) {
  if (!e.is_object()) throw ModelError(where + ": must be an object");
  CatalogModel m;
  m.name = field(e, "name", where);
  m.file = field(e, "file", where);
  m.sha256 = field(e, "sha256", where);
  m.preset = field(e, "preset", where);
  if (!is_sha256(m.sha256)) throw ModelError(where + ": 'sha256' must be 64 lowercase hex digits");
  for (char ch : m.name)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
      throw ModelError(where + ": 'name' \"" + m.name +
                       "\" may hold only a-z, 0-9, '_' and '-' (a path is never a name)");
  if (m.file.find('/') != std::string::npos)
    throw ModelError(where + ": 'file' must be a plain file name, not a path");
  const auto p = e.find("packages");
  if (p == e.end() || !p->is_array() || p->empty())
    throw ModelError(where + ": 'packages' must be a non-empty list of PyPI requirements");
  for (const json& pkg : *p) {
    if (!pkg.is_string() || pkg.get<std::string>().empty())
      throw ModelError(where + ": 'packages' must hold non-empty strings");
    m.packages.push_back(pkg.get<std::string>());
  }
  return m;
}

}  // namespace

std::vector<CatalogModel> parse_model_catalog(const std::string& text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw ModelError(where + ": invalid JSON at byte " + std::to_string(e.byte));
  }
  if (!j.is_object() || !j.contains("models") || !j["models"].is_array() || j["models"].empty())
    throw ModelError(where + ": expected {\"models\": [ ... ]} with at least one model");
  std::vector<CatalogModel> out;
  for (size_t i = 0; i < j["models"].size(); ++i) {
    CatalogModel m = parse_entry(j["models"][i], where + ": models[" + std::to_string(i) + "]");
    if (find_catalog_model(out, m.name))
      throw ModelError(where + ": model name '" + m.name + "' appears twice");
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<CatalogModel> model_catalog() {
  const std::string path = asset_path("models.json");
  std::string text;
  try {
    text = read_file(path);
  } catch (const IoError& e) {
    throw ModelError(std::string(e.what()) + " (the model catalog; set ATTNLAB_ASSETS?)");
  }
  return parse_model_catalog(text, path);
}

const CatalogModel* find_catalog_model(const std::vector<CatalogModel>& catalog,
                                       const std::string& name) {
  for (const CatalogModel& m : catalog)
    if (m.name == name) return &m;
  return nullptr;
}

std::vector<std::string> catalog_model_names() {
  std::vector<std::string> names;
  for (const CatalogModel& m : model_catalog()) names.push_back(m.name);
  return names;
}

std::string catalog_names_text(const char* separator) {
  std::string s;
  for (const std::string& n : catalog_model_names()) s += (s.empty() ? "" : separator) + n;
  return s;
}

std::string resolve_model_path(const std::string& name) {
  const bool path = name.find('/') != std::string::npos ||
                    (name.size() > 5 && name.compare(name.size() - 5, 5, ".gguf") == 0);
  if (path) return name;
  const std::vector<CatalogModel> catalog = model_catalog();
  const CatalogModel* m = find_catalog_model(catalog, name);
  return m ? model_dir() + "/" + m->file : name;
}

std::string model_dir() {
  const char* env = std::getenv("ATTNLAB_MODELS");
  return env && *env ? env : ATTNLAB_MODEL_DIR;
}

}  // namespace core::model
