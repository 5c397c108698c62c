namespace Amalgam.Kernels;

/// <summary>One piece of a <see cref="ChunkPlan"/>: elements [Start, End).</summary>
public readonly record struct Chunk(int Index, long Start, long End)
{
    public long Length => End - Start;
}

/// <summary>
/// Cuts [0, Length) into chunks of <see cref="ChunkElements"/> (the last one shorter). Boundaries
/// depend only on the length and the chunk size, never on how many threads run them, which is what
/// makes parallel results bit-identical at any thread count.
/// </summary>
public readonly struct ChunkPlan
{
    /// <summary>256 KiB per chunk: several chunks per core for balance, each small enough for L2.</summary>
    public const long DefaultChunkBytes = 256 * 1024;

    /// <summary>Chunk starts are multiples of this many bytes (a cache line, one Vector512).</summary>
    public const int AlignmentBytes = 64;

    public ChunkPlan(long length, long chunkElements)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkElements, 1);
        long count = length == 0 ? 0 : (length - 1) / chunkElements + 1;
        if (count > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(chunkElements), $"{length} elements in chunks of {chunkElements} make more than 2^31 chunks");
        Length = length;
        ChunkElements = chunkElements;
        ChunkCount = (int)count;
    }

    /// <summary>
    /// Chunks of about <paramref name="chunkBytes"/> bytes of <paramref name="elementSize"/>-byte
    /// elements, rounded up to a whole number of 64-byte lines, so that over 64-byte aligned data
    /// (every <see cref="Tensor"/>) each chunk starts on a cache line and no two chunks share one.
    /// </summary>
    public static ChunkPlan ForElementSize(long length, int elementSize, long chunkBytes = DefaultChunkBytes)
    {
        if (elementSize is not (1 or 2 or 4 or 8 or 16 or 32 or 64))
            throw new ArgumentOutOfRangeException(nameof(elementSize), elementSize, "element size must be a power of two up to 64 bytes");
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1);
        long perLine = AlignmentBytes / elementSize;
        long elements = (chunkBytes + elementSize - 1) / elementSize;
        return new ChunkPlan(length, (elements + perLine - 1) / perLine * perLine);
    }

    /// <summary><see cref="ForElementSize"/> for elements of type <typeparamref name="T"/>.</summary>
    public static unsafe ChunkPlan For<T>(long length, long chunkBytes = DefaultChunkBytes) where T : unmanaged =>
        ForElementSize(length, sizeof(T), chunkBytes);

    public long Length { get; }
    public long ChunkElements { get; }
    public int ChunkCount { get; }

    public Chunk this[int index]
    {
        get
        {
            if ((uint)index >= (uint)ChunkCount) throw new ArgumentOutOfRangeException(nameof(index));
            long start = index * ChunkElements;
            return new Chunk(index, start, Math.Min(Length, start + ChunkElements));
        }
    }
}
