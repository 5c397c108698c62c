using System.Collections.Immutable;
using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Safetensors;

/// <summary>
/// One tensor as a safetensors header describes it: name, dtype, shape and its byte range
/// [<see cref="Begin"/>, <see cref="End"/>) relative to the first byte after the header.
/// </summary>
public sealed record SafetensorsEntry(string Name, DType DType, ImmutableArray<long> Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
    public long ElementCount => Shapes.ElementCount(Shape.AsSpan());

    // ImmutableArray compares by reference; entries compare by shape values.
    public bool Equals(SafetensorsEntry? other) =>
        other is not null && Name == other.Name && DType == other.DType && Shape.AsSpan().SequenceEqual(other.Shape.AsSpan())
        && Begin == other.Begin && End == other.End;

    public override int GetHashCode() => HashCode.Combine(Name, DType, Shape.Length, Begin, End);

    public override string ToString() => $"{Name}: {DType.ShortName()} {Shapes.Format(Shape.AsSpan())} @[{Begin}, {End})";
}

/// <summary>A tensor a <see cref="SafetensorsWriter"/> will write: name, dtype and shape, no data yet.</summary>
public sealed record SafetensorsDeclaration(string Name, DType DType, ImmutableArray<long> Shape)
{
    public SafetensorsDeclaration(string name, DType dtype, params long[] shape) : this(name, dtype, shape.ToImmutableArray()) { }

    /// <summary>The declaration matching an existing tensor.</summary>
    public static SafetensorsDeclaration Of(Tensor t) => new(t.Name, t.DType, t.ShapeArray().ToImmutableArray());

    /// <summary>Bytes of data; throws <see cref="OverflowException"/> or <see cref="ArgumentOutOfRangeException"/> for impossible shapes.</summary>
    public long ByteLength => checked(Shapes.ElementCount(Shape.AsSpan()) * DType.Size());

    public bool Equals(SafetensorsDeclaration? other) =>
        other is not null && Name == other.Name && DType == other.DType && Shape.AsSpan().SequenceEqual(other.Shape.AsSpan());

    public override int GetHashCode() => HashCode.Combine(Name, DType, Shape.Length);
}
