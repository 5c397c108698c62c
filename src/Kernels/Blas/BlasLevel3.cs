namespace Amalgam.Kernels.Blas;

/// <summary>
/// Level-3 BLAS from OpenBLAS over spans. Every matrix is ROW-MAJOR: element (i, j) of a matrix
/// with leading dimension <c>ld</c> is at <c>[i * ld + j]</c>, and <c>ld</c> must be at least the
/// stored row length (it may be larger, e.g. to address a block of a bigger matrix). Outputs must
/// not overlap inputs. Results are computed in float32 with OpenBLAS's blocked kernels.
/// </summary>
public static unsafe class BlasLevel3
{
    /// <summary>
    /// C = alpha * op(A) * op(B) + beta * C, with op(A) m x k, op(B) k x n, C m x n.
    /// A is stored m x k (lda &gt;= k) when <paramref name="transA"/> is No, k x m (lda &gt;= m) when Yes;
    /// likewise B is k x n (ldb &gt;= n) or n x k (ldb &gt;= k). When beta is 0, C is not read (NaNs in
    /// it are harmless).
    /// </summary>
    public static void Sgemm(Transpose transA, Transpose transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        bool ta = transA == Transpose.Yes, tb = transB == Transpose.Yes;
        MatrixArgs.Check(nameof(a), a.Length, ta ? k : m, ta ? m : k, lda);
        MatrixArgs.Check(nameof(b), b.Length, tb ? n : k, tb ? k : n, ldb);
        MatrixArgs.Check(nameof(c), c.Length, m, n, ldc);
        MatrixArgs.NoOverlap(a, c, nameof(a), nameof(c));
        MatrixArgs.NoOverlap(b, c, nameof(b), nameof(c));
        var native = OpenBlas.Native;
        if (m == 0 || n == 0) return;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            native.CblasSgemm(OpenBlasNative.RowMajor, ta ? OpenBlasNative.Trans : OpenBlasNative.NoTrans,
                tb ? OpenBlasNative.Trans : OpenBlasNative.NoTrans, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
    }

    /// <summary>C = A * B for densely packed A (m x k), B (k x n), C (m x n).</summary>
    public static void Sgemm(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c) =>
        Sgemm(Transpose.No, Transpose.No, m, n, k, 1f, a, Math.Max(1, k), b, Math.Max(1, n), 0f, c, Math.Max(1, n));

    /// <summary>
    /// Symmetric rank-k update of one triangle of the n x n matrix C:
    /// <paramref name="trans"/> Yes: C = alpha * A^T * A + beta * C with A stored k x n (lda &gt;= n), the
    /// Gram matrix of A's columns; No: C = alpha * A * A^T + beta * C with A stored n x k (lda &gt;= k).
    /// Only the <paramref name="uplo"/> triangle (diagonal included) of C is read and written; use
    /// <see cref="MirrorTriangle"/> to fill the other.
    /// </summary>
    public static void Ssyrk(Triangle uplo, Transpose trans, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, float beta, Span<float> c, int ldc)
    {
        bool t = trans == Transpose.Yes;
        MatrixArgs.Check(nameof(a), a.Length, t ? k : n, t ? n : k, lda);
        MatrixArgs.Check(nameof(c), c.Length, n, n, ldc);
        MatrixArgs.NoOverlap(a, c, nameof(a), nameof(c));
        var native = OpenBlas.Native;
        if (n == 0) return;
        fixed (float* pa = a)
        fixed (float* pc = c)
        {
            native.CblasSsyrk(OpenBlasNative.RowMajor, uplo == Triangle.Upper ? OpenBlasNative.Upper : OpenBlasNative.Lower,
                t ? OpenBlasNative.Trans : OpenBlasNative.NoTrans, n, k, alpha, pa, lda, beta, pc, ldc);
        }
    }

    /// <summary>
    /// The full symmetric Gram matrix G = A^T * A (n x n, dense) of a densely packed rows x n matrix A:
    /// <see cref="Ssyrk"/> on the upper triangle, then mirrored.
    /// </summary>
    public static void Gram(int rows, int n, ReadOnlySpan<float> a, Span<float> g)
    {
        Ssyrk(Triangle.Upper, Transpose.Yes, n, rows, 1f, a, Math.Max(1, n), 0f, g, Math.Max(1, n));
        MirrorTriangle(Triangle.Upper, n, g, Math.Max(1, n));
    }

    /// <summary>
    /// Makes the n x n row-major matrix C fully symmetric by copying the <paramref name="source"/>
    /// triangle onto the other one (the diagonal is left as is).
    /// </summary>
    public static void MirrorTriangle(Triangle source, int n, Span<float> c, int ldc)
    {
        MatrixArgs.Check(nameof(c), c.Length, n, n, ldc);
        // Tiled so both the row-wise reads and the column-wise writes stay in cache.
        const int Tile = 32;
        for (int i0 = 0; i0 < n; i0 += Tile)
        {
            for (int j0 = i0; j0 < n; j0 += Tile)
            {
                int iEnd = Math.Min(i0 + Tile, n), jEnd = Math.Min(j0 + Tile, n);
                for (int i = i0; i < iEnd; i++)
                {
                    for (int j = Math.Max(j0, i + 1); j < jEnd; j++)
                    {
                        // (i, j) with j > i is in the upper triangle, (j, i) in the lower.
                        if (source == Triangle.Upper) c[j * ldc + i] = c[i * ldc + j];
                        else c[i * ldc + j] = c[j * ldc + i];
                    }
                }
            }
        }
    }
}
