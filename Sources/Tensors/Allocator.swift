// The generator allocates and frees planes of 30–130 MB every frame. glibc serves blocks that large with
// mmap and returns them to the kernel on free, so every frame paid page faults and page zeroing on
// fresh memory again (about 7 % of a full-size frame). Keeping them in the heap lets freed blocks be
// reused; peak memory grows a little (930 → 1044 MB at full size) because the heap is not trimmed.
import CKernels

public enum Allocator {
    /// Serve large blocks from the heap and never trim it. Process-wide; call once at start-up.
    public static func keepFreedMemory() {
        avz_keep_freed_memory()
    }

    /// Hands the heap's free pages back to the kernel (glibc's malloc_trim), which `keepFreedMemory` never
    /// does by itself: after a network is let go (the encoder, once a clip is encoded) its pages would stay
    /// resident for the rest of the run, 0.5 GB at full size in float32. Takes a fraction of a second.
    public static func returnFreedMemory() {
        avz_return_freed_memory()
    }
}
