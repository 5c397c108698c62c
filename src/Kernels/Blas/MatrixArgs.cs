using System.Numerics.Tensors;

namespace Amalgam.Kernels.Blas;

/// <summary>Argument checks shared by the wrappers, so LAPACK/CBLAS never see an illegal value.</summary>
internal static class MatrixArgs
{
    /// <summary>Floats a row-major rows x cols matrix with leading dimension ld spans.</summary>
    public static long Extent(int rows, int cols, int ld) =>
        rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;

    /// <summary>Throws unless dims are non-negative, ld &gt;= max(1, cols) and the span is long enough.</summary>
    public static void Check(string name, int length, int rows, int cols, int ld)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(name, $"matrix {name} has negative size {rows}x{cols}");
        if (ld < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException(name, $"leading dimension {ld} of {name} is smaller than its row length {cols} (row-major)");
        long need = Extent(rows, cols, ld);
        if (length < need)
            throw new ArgumentException($"matrix {name} ({rows}x{cols}, leading dimension {ld}) needs {need} floats but the span has {length}", name);
    }

    public static void NoOverlap(ReadOnlySpan<float> input, ReadOnlySpan<float> output, string inputName, string outputName)
    {
        if (!input.IsEmpty && !output.IsEmpty && input.Overlaps(output))
            throw new ArgumentException($"{outputName} must not overlap {inputName}", outputName);
    }

    /// <summary>
    /// Throws unless every entry LAPACK will read is finite: the whole rows x cols block, or for a
    /// symmetric matrix (rows == cols) only the given triangle. OpenBLAS does not flag NaN: its
    /// Cholesky returns INFO = 0 and a NaN solution, and ssyevr fails with an opaque internal error.
    /// </summary>
    public static void CheckFinite(string name, ReadOnlySpan<float> a, int rows, int cols, int ld, Triangle? triangle = null)
    {
        for (int i = 0; i < rows; i++)
        {
            int start = triangle == Triangle.Upper ? i : 0;
            int end = triangle == Triangle.Lower ? i + 1 : cols;
            var row = a.Slice(i * ld + start, end - start);
            if (TensorPrimitives.IsFiniteAll(row)) continue;
            int j = start;
            while (float.IsFinite(row[j - start])) j++;
            throw new ArgumentException($"matrix {name} has a non-finite entry {row[j - start]} at ({i}, {j}); LAPACK cannot work with NaN or infinity", name);
        }
    }

    /// <summary>Fortran CHARACTER for a row-major triangle: row-major upper is column-major lower.</summary>
    public static byte FortranUplo(Triangle t) => t == Triangle.Upper ? (byte)'L' : (byte)'U';

    /// <summary>Copies a row-major rows x cols block into column-major order (dst leading dimension ldDst).</summary>
    public static unsafe void TransposeInto(float* src, int rows, int cols, int ldSrc, float* dst, int ldDst)
    {
        for (int i = 0; i < rows; i++)
        {
            float* row = src + (long)i * ldSrc;
            for (int j = 0; j < cols; j++) dst[(long)j * ldDst + i] = row[j];
        }
    }
}
