#include "cache.h"

#include "bareflow/crc32.h"
#include "bareflow/kernel.h"
#include "bareflow/record.h"
#include "bareflow/vfs.h"

#include "llvm/IR/Module.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace bf::jit {

namespace {

struct Header {
    char magic[8];       // "BFJITOBJ"
    uint32_t version;    // 1
    uint32_t crc;        // CRC-32 of the object bytes
    uint64_t key;        // the cache key (also the file name)
    uint64_t size;       // object bytes that follow
};
static_assert(sizeof(Header) == 32);

std::string path_of(const std::string &key, const char *ext = ".o") { return "/JIT/" + key + ext; }

}  // namespace

ObjectFileCache::ObjectFileCache(bool enabled, bool clear) : enabled_(enabled) {
    // Hosted without a disk image, /JIT would be a directory in the host's root: no cache then.
    if (!bf::bare_metal() && !vfs::using_image()) {
        if (enabled_) fprintf(stderr, "jit: no object cache (hosted without BAREFLOW_IMAGE)\n");
        enabled_ = false;
        return;
    }
    if (clear) {
        std::vector<std::string> names;
        vfs::list("/JIT", [](const char *n, bool dir, uint64_t, void *ctx) {
            if (!dir) static_cast<std::vector<std::string> *>(ctx)->push_back(n);
        }, &names);
        for (auto &n : names) vfs::unlink(("/JIT/" + n).c_str());
        fprintf(stderr, "jit: cache cleared (%zu entries removed)\n", names.size());
    }
    if (enabled_) {
        int r = vfs::mkdir("/JIT");
        if (r && r != -EEXIST) {
            fprintf(stderr, "jit: cannot create /JIT (%s): compiled code will not be cached\n", strerror(-r));
            enabled_ = false;
        }
    }
}

bool ObjectFileCache::has(const std::string &key) const {
    uint64_t size = 0;
    bool dir = false;
    return enabled_ && vfs::stat_size(path_of(key).c_str(), &size, &dir) == 0 && !dir;
}

std::unique_ptr<llvm::MemoryBuffer> ObjectFileCache::load(const std::string &key) {
    if (!enabled_) return nullptr;
    std::string path = path_of(key);
    FILE *f = vfs::fopen(path.c_str(), "rb");
    if (!f) return nullptr;
    Header h;
    std::vector<char> obj;
    const char *why = nullptr;
    if (fread(&h, sizeof h, 1, f) != 1) why = "shorter than its header";
    else if (memcmp(h.magic, "BFJITOBJ", 8) != 0 || h.version != 1) why = "bad magic or version";
    else if (strtoull(key.c_str(), nullptr, 16) != h.key) why = "key does not match its name";
    else if (h.size == 0 || h.size > (256u << 20)) why = "impossible object size";
    else {
        obj.resize(h.size);
        if (fread(obj.data(), 1, h.size, f) != h.size) why = "truncated object";
        else if (crc32(obj.data(), obj.size()) != h.crc) why = "checksum mismatch";
    }
    fclose(f);
    if (why) {
        reject(key, why);
        return nullptr;
    }
    hits_++;
    return llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(obj.data(), obj.size()), path);
}

bool ObjectFileCache::load_decision(const std::string &key, tune::Decision &d) {
    if (!enabled_) return false;
    FILE *f = vfs::fopen(path_of(key, ".w").c_str(), "rb");
    if (!f) return false;
    uint8_t buf[1024];  // a valid record is 296 bytes; a longer file is refused by parse()
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (const char *why = tune::parse(buf, n, strtoull(key.c_str(), nullptr, 16), d)) {
        reject(key, why, "", ".w");
        return false;
    }
    return true;
}

void ObjectFileCache::store_decision(const std::string &key, const tune::Decision &d) {
    if (!enabled_) return;
    const std::vector<uint8_t> data = tune::encode(strtoull(key.c_str(), nullptr, 16), d);
    if (int r = vfs::write_atomic(path_of(key, ".w").c_str(), data.data(), data.size()))
        fprintf(stderr, "jit: could not store %s (%s)\n", path_of(key, ".w").c_str(), strerror(-r));
}

void ObjectFileCache::reject(const std::string &key, const char *why, const std::string &detail, const char *ext) {
    const std::string path = path_of(key, ext);
    rejected_++;
    fprintf(stderr, "jit: cache entry %s rejected (%s%s%s): %s\n", path.c_str(), why, detail.empty() ? "" : ": ",
            detail.c_str(), strcmp(ext, ".w") ? "recompiling" : "measuring again");
    recordf("{\"record\":\"jit_cache_reject\",\"path\":\"%s\",\"reason\":\"%s\"}\n", path.c_str(), why);
    vfs::unlink(path.c_str());
}

void ObjectFileCache::store(const std::string &key, llvm::MemoryBufferRef obj) {
    if (!enabled_) return;
    Header h{};
    memcpy(h.magic, "BFJITOBJ", 8);
    h.version = 1;
    h.key = strtoull(key.c_str(), nullptr, 16);
    h.size = obj.getBufferSize();
    h.crc = crc32(obj.getBufferStart(), obj.getBufferSize());
    std::vector<char> data(sizeof h + obj.getBufferSize());
    memcpy(data.data(), &h, sizeof h);
    memcpy(data.data() + sizeof h, obj.getBufferStart(), obj.getBufferSize());
    if (int r = vfs::write_atomic(path_of(key).c_str(), data.data(), data.size()))
        fprintf(stderr, "jit: could not store %s (%s)\n", path_of(key).c_str(), strerror(-r));
    else
        stored_++;
}

}  // namespace bf::jit
