// The JIT's object cache on the FAT16 partition: /JIT/<key>.o, one compiled kernel each, and
// /JIT/<key>.w, the outcome of one slot's trial (which variant won, tune.h). A file is
// a header (magic "BFJITOBJ", version, key, object size, CRC-32 of the object) and the object.
// It is written as temp + rename, so a power cut never leaves a torn entry; an entry whose header
// or checksum does not match is reported and recompiled, never linked. So is one that passes those
// checks but that LLVM cannot use (a body it refuses, an object defining another key's kernel):
// the engine calls reject(), which deletes it, so no entry pins its kernel to AOT on every boot.
#pragma once
#include "tune.h"

#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>

namespace bf::jit {

class ObjectFileCache {
  public:
    ObjectFileCache(bool enabled, bool clear);
    // Whether /JIT/<key>.o exists (valid or not: load() checks).
    bool has(const std::string &key) const;
    // A valid cached object for key, or nullptr (missing, disabled, or rejected with a message).
    std::unique_ptr<llvm::MemoryBuffer> load(const std::string &key);
    // A slot's trial decision, /JIT/<key>.w (tune.h): false if there is none or it is bad (then
    // reported, deleted and counted as rejected, like a bad object).
    bool load_decision(const std::string &key, tune::Decision &d);
    void store_decision(const std::string &key, const tune::Decision &d);
    // Reports the entry for key (why: a fixed phrase, also the record's reason; detail: LLVM's
    // words, shown to people only), deletes it and counts it as rejected.
    void reject(const std::string &key, const char *why, const std::string &detail = "", const char *ext = ".o");
    // Stores obj as /JIT/<key>.o (temp + rename); a failure is said and leaves no entry.
    void store(const std::string &key, llvm::MemoryBufferRef obj);
    bool enabled() const { return enabled_; }
    uint64_t hits() const { return hits_; }
    uint64_t rejected() const { return rejected_; }
    uint64_t stored() const { return stored_; }

  private:
    bool enabled_;
    uint64_t hits_ = 0, rejected_ = 0, stored_ = 0;
};

}  // namespace bf::jit
