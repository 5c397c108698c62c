using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Simd;

/// <summary>4 float lanes: <see cref="Vector128{T}"/> of float as an <see cref="IFloatLanes{TV}"/>.</summary>
internal readonly unsafe struct FloatLanes128 : IFloatLanes<Vector128<float>>
{
    public static int Count => 4;

    public static bool IsHardwareAccelerated => Vector128.IsHardwareAccelerated;

    public static Vector128<float> Zero
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector128<float>.Zero;
    }

    public static Vector128<float> One
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector128<float>.One;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Create(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(float* source) => Vector128.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadBf16(ushort* source) => Vector128.ShiftLeft(Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(ulong*)source).AsUInt16()), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector128<float> Lower, Vector128<float> Upper) LoadBf16Pair(ushort* source)
    {
        var (lower, upper) = Vector128.Widen(Vector128.Load(source));
        return (Vector128.ShiftLeft(lower, 16).AsSingle(), Vector128.ShiftLeft(upper, 16).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<float> value, float* destination) => value.Store(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadUnsafe(ref float source, nuint elementOffset) => Vector128.LoadUnsafe(ref source, elementOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreUnsafe(Vector128<float> value, ref float destination, nuint elementOffset) => value.StoreUnsafe(ref destination, elementOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> left, Vector128<float> right) => left + right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> left, Vector128<float> right) => left - right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> left, Vector128<float> right) => left * right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Divide(Vector128<float> left, Vector128<float> right) => left / right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> And(Vector128<float> left, Vector128<float> right) => left & right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Or(Vector128<float> left, Vector128<float> right) => left | right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Not(Vector128<float> value) => ~value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Abs(Vector128<float> value) => Vector128.Abs(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sqrt(Vector128<float> value) => Vector128.Sqrt(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Equals(Vector128<float> left, Vector128<float> right) => Vector128.Equals(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> GreaterThan(Vector128<float> left, Vector128<float> right) => Vector128.GreaterThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> GreaterThanOrEqual(Vector128<float> left, Vector128<float> right) => Vector128.GreaterThanOrEqual(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LessThan(Vector128<float> left, Vector128<float> right) => Vector128.LessThan(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ConditionalSelect(Vector128<float> mask, Vector128<float> left, Vector128<float> right) => Vector128.ConditionalSelect(mask, left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MaxNative(Vector128<float> left, Vector128<float> right) => Vector128.MaxNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MinNative(Vector128<float> left, Vector128<float> right) => Vector128.MinNative(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadUInt32(uint* source) => Vector128.Load(source).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> CreateUInt32(uint value) => Vector128.Create(value).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ShiftRightLogical(Vector128<float> value, int count) => Vector128.ShiftRightLogical(value.AsUInt32(), count).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> GreaterThanOrEqualUInt32(Vector128<float> left, Vector128<float> right) => Vector128.GreaterThanOrEqual(left.AsUInt32(), right.AsUInt32()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ExtractMostSignificantBits(Vector128<float> value) => Vector128.ExtractMostSignificantBits(value);
}
