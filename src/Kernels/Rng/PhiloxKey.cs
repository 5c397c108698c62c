using System.Text;

namespace Amalgam.Kernels.Rng;

/// <summary>
/// Identifies one random stream of <see cref="Philox"/>: the 64-bit Philox key and the upper 64
/// bits of the 128-bit counter. Element <c>i</c> of the stream uses counter
/// <c>(lo32(i/4), hi32(i/4), Stream0, Stream1)</c> and output word <c>i % 4</c>, so its value
/// depends only on (key, i): not on threads, chunking, order or device.
/// </summary>
public readonly record struct PhiloxKey(uint Key0, uint Key1, uint Stream0, uint Stream1)
{
    /// <summary>
    /// The stream for one task's mask over one tensor: the key holds the seed (low 32 bits in
    /// <see cref="Key0"/>, high 32 bits XOR the task index in <see cref="Key1"/>), the counter's
    /// upper half holds <see cref="StableNameHash"/> of the tensor name. For seeds below 2^32 the
    /// map (seed, task) -> key is injective; distinct names give distinct counters unless their
    /// 64-bit hashes collide.
    /// </summary>
    public static PhiloxKey ForTensor(ulong seed, int task, string tensorName)
    {
        ArgumentNullException.ThrowIfNull(tensorName);
        ulong h = StableNameHash(tensorName);
        return new PhiloxKey((uint)seed, (uint)(seed >> 32) ^ (uint)task, (uint)h, (uint)(h >> 32));
    }

    /// <summary>
    /// 64-bit FNV-1a of the UTF-8 bytes of <paramref name="name"/> (offset basis
    /// 0xcbf29ce484222325, prime 0x100000001b3). Stable across processes and platforms, unlike
    /// <see cref="string.GetHashCode()"/>.
    /// </summary>
    public static ulong StableNameHash(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        const ulong offsetBasis = 0xcbf29ce484222325UL, prime = 0x100000001b3UL;
        ulong h = offsetBasis;
        int max = Encoding.UTF8.GetMaxByteCount(name.Length);
        byte[]? rented = max > 512 ? System.Buffers.ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> bytes = rented ?? stackalloc byte[512];
        int len = Encoding.UTF8.GetBytes(name, bytes);
        foreach (byte b in bytes[..len]) h = (h ^ b) * prime;
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        return h;
    }
}
