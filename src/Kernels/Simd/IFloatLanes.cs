using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Simd;

/// <summary>
/// One vector width of float lanes, <typeparamref name="TV"/> (<see cref="Vector512{T}"/>, <see cref="Vector256{T}"/>
/// or <see cref="Vector128{T}"/> of float), implemented by <see cref="FloatLanes512"/>, <see cref="FloatLanes256"/> and
/// <see cref="FloatLanes128"/>, so that a kernel's loop body is written once with the width as type parameters
/// (&lt;TV, TL&gt; where TL : IFloatLanes&lt;TV&gt;), as dotnet/runtime's TensorPrimitives operator structs do; the
/// .NET 10 <c>ISimdVector</c> interface that would do this is internal to CoreLib. Each member is the Vector API
/// operation of the same name, aggressively inlined: the JIT specializes a generic method per width struct and
/// emits the code of the width-specific source. The values stay the Vector types themselves (a wrapper struct
/// with operators was tried: the JIT then keeps AVX-512 compare results in vector registers instead of mask
/// registers, 15-25 % slower). Comparisons return lane masks (all bits set or clear), as the Vector APIs do.
/// </summary>
internal unsafe interface IFloatLanes<TV> where TV : unmanaged
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }

    static abstract bool IsHardwareAccelerated { get; }

    static abstract TV Zero { get; }

    static abstract TV One { get; }

    static abstract TV Create(float value);

    static abstract TV Load(float* source);

    /// <summary>Loads <see cref="Count"/> bf16 values (bit patterns) and widens them exactly to float.</summary>
    static abstract TV LoadBf16(ushort* source);

    /// <summary>Loads 2 <see cref="Count"/> bf16 values with one load and widens them: the first and the second half.</summary>
    static abstract (TV Lower, TV Upper) LoadBf16Pair(ushort* source);

    static abstract void Store(TV value, float* destination);

    /// <summary>Loads <see cref="Count"/> floats at <paramref name="source"/> + <paramref name="elementOffset"/> (managed references: no pinning).</summary>
    static abstract TV LoadUnsafe(ref float source, nuint elementOffset);

    static abstract void StoreUnsafe(TV value, ref float destination, nuint elementOffset);

    static abstract TV Add(TV left, TV right);

    static abstract TV Subtract(TV left, TV right);

    static abstract TV Multiply(TV left, TV right);

    static abstract TV Divide(TV left, TV right);

    static abstract TV And(TV left, TV right);

    static abstract TV Or(TV left, TV right);

    static abstract TV Not(TV value);

    static abstract TV Abs(TV value);

    /// <summary>The correctly rounded square root of each lane (IEEE sqrt, as <see cref="MathF.Sqrt"/>).</summary>
    static abstract TV Sqrt(TV value);

    static abstract TV Equals(TV left, TV right);

    static abstract TV GreaterThan(TV left, TV right);

    static abstract TV GreaterThanOrEqual(TV left, TV right);

    static abstract TV LessThan(TV left, TV right);

    /// <summary>Per lane mask ? left : right.</summary>
    static abstract TV ConditionalSelect(TV mask, TV left, TV right);

    /// <summary>The platform's max (x86: the second operand when either is NaN or both are zero).</summary>
    static abstract TV MaxNative(TV left, TV right);

    /// <summary>The platform's min (x86: the second operand when either is NaN or both are zero).</summary>
    static abstract TV MinNative(TV left, TV right);

    /// <summary>Loads <see cref="Count"/> uint32 values as the lanes' bit patterns (no conversion).</summary>
    static abstract TV LoadUInt32(uint* source);

    /// <summary>Every lane's bit pattern is <paramref name="value"/>.</summary>
    static abstract TV CreateUInt32(uint value);

    /// <summary>Each lane's bits as a uint32, shifted right by <paramref name="count"/> with zeros shifted in.</summary>
    static abstract TV ShiftRightLogical(TV value, int count);

    /// <summary>Lane mask of left &gt;= right with both lanes' bits compared as uint32.</summary>
    static abstract TV GreaterThanOrEqualUInt32(TV left, TV right);

    /// <summary>The sign bit of each lane, lane 0 in bit 0 (at most 16 lanes).</summary>
    static abstract uint ExtractMostSignificantBits(TV value);
}
