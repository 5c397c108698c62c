namespace Amalgam.Kernels.Blas;

/// <summary>
/// LAPACK from OpenBLAS over spans, for symmetric eigenproblems, SPD solves and least squares.
/// Matrices are ROW-MAJOR like everywhere in Amalgam (element (i, j) at <c>[i * ld + j]</c>); the
/// wrappers deal with LAPACK being column-major. Symmetric inputs take a <see cref="Triangle"/> (in
/// row-major terms) and only that triangle is read. Eigenvectors come back as ROWS: row j
/// (<c>[j * n .. j * n + n)</c>) is the unit eigenvector of eigenvalue j; eigenvalues are ascending.
/// Every call queries LAPACK's optimal workspace (LWORK = -1), allocates it once, and turns a
/// non-zero INFO into a <see cref="LapackException"/>. A NaN or infinity in the part of the matrix
/// LAPACK reads is rejected up front with an <see cref="ArgumentException"/> naming its position
/// (OpenBLAS would otherwise return NaNs with INFO = 0, or an opaque internal error).
/// </summary>
public static unsafe partial class Lapack
{
    /// <summary>
    /// All eigenvalues (ascending) and optionally eigenvectors of the symmetric n x n matrix A, by
    /// divide and conquer (<c>ssyevd</c>). With <paramref name="computeVectors"/>, A is overwritten
    /// by the eigenvectors as rows: row j (stride lda) is the eigenvector of eigenvalue j. Without,
    /// A's <paramref name="uplo"/> triangle is destroyed.
    /// </summary>
    public static void Ssyevd(Triangle uplo, int n, Span<float> a, int lda, Span<float> eigenvalues, bool computeVectors = true)
    {
        MatrixArgs.Check(nameof(a), a.Length, n, n, lda);
        if (eigenvalues.Length < n) throw new ArgumentException($"eigenvalues needs {n} floats but has {eigenvalues.Length}", nameof(eigenvalues));
        MatrixArgs.NoOverlap(a, eigenvalues, nameof(a), nameof(eigenvalues));
        MatrixArgs.CheckFinite(nameof(a), a, n, n, lda, uplo);
        var native = OpenBlas.Native;
        if (n == 0) return;

        byte jobz = computeVectors ? (byte)'V' : (byte)'N', uploChar = MatrixArgs.FortranUplo(uplo);
        int info = 0, lwork = -1, liwork = -1;
        float workQuery = 0;
        int iworkQuery = 0;
        fixed (float* pa = a)
        fixed (float* pw = eigenvalues)
        {
            native.Ssyevd(&jobz, &uploChar, &n, pa, &lda, pw, &workQuery, &lwork, &iworkQuery, &liwork, &info, 1, 1);
            if (info != 0) throw LapackException.IllegalArgument("ssyevd", info);

            lwork = NativeWorkspace.QueriedSize(workQuery, 1);
            liwork = Math.Max(iworkQuery, 1);
            using var ws = new NativeWorkspace([lwork], [liwork]);
            float* work = ws.Floats(lwork);
            int* iwork = ws.Ints(liwork);
            native.Ssyevd(&jobz, &uploChar, &n, pa, &lda, pw, work, &lwork, iwork, &liwork, &info, 1, 1);
        }
        if (info < 0) throw LapackException.IllegalArgument("ssyevd", info);
        if (info > 0)
            throw new LapackException("ssyevd", info, computeVectors
                ? $"failed to compute an eigenvalue of the submatrix in rows/columns {info / (n + 1)}..{info % (n + 1)}"
                : $"{info} off-diagonal elements of the tridiagonal form did not converge to zero");
    }

    /// <summary>
    /// Selected eigenpairs of the symmetric n x n matrix A by relatively robust representations
    /// (<c>ssyevr</c>), e.g. <c>EigenSelection.Largest(c)</c> for the top c. Returns the number m
    /// found; eigenvalues[0..m) are ascending and, when <paramref name="eigenvectors"/> is not empty,
    /// its row j (<c>[j * n .. j * n + n)</c>) is the unit eigenvector of eigenvalue j. Both outputs
    /// must hold <c>selection.MaxCount(n)</c> entries (rows). A's <paramref name="uplo"/> triangle is
    /// destroyed. <paramref name="absoluteTolerance"/> 0 lets LAPACK choose (eps * |T|).
    /// </summary>
    public static int Ssyevr(Triangle uplo, int n, Span<float> a, int lda, EigenSelection selection,
        Span<float> eigenvalues, Span<float> eigenvectors, float absoluteTolerance = 0f)
    {
        MatrixArgs.Check(nameof(a), a.Length, n, n, lda);
        int maxCount = selection.MaxCount(n);
        bool byIndex = selection.Kind is not (EigenSelection.SelectionKind.All or EigenSelection.SelectionKind.Value);
        (int first, int last) = byIndex ? selection.IndexRange(n) : (0, n - 1);
        if (eigenvalues.Length < maxCount)
            throw new ArgumentException($"eigenvalues needs {maxCount} floats for this selection but has {eigenvalues.Length}", nameof(eigenvalues));
        bool vectors = !eigenvectors.IsEmpty;
        if (vectors && eigenvectors.Length < (long)maxCount * n)
            throw new ArgumentException($"eigenvectors needs {(long)maxCount * n} floats ({maxCount} rows of {n}) but has {eigenvectors.Length}", nameof(eigenvectors));
        MatrixArgs.NoOverlap(a, eigenvalues, nameof(a), nameof(eigenvalues));
        MatrixArgs.NoOverlap(a, eigenvectors, nameof(a), nameof(eigenvectors));
        MatrixArgs.NoOverlap(eigenvalues, eigenvectors, nameof(eigenvalues), nameof(eigenvectors));
        MatrixArgs.CheckFinite(nameof(a), a, n, n, lda, uplo);
        var native = OpenBlas.Native;
        if (n == 0) return 0;

        byte jobz = vectors ? (byte)'V' : (byte)'N', uploChar = MatrixArgs.FortranUplo(uplo), range;
        int il = 1, iu = n;
        float vl = 0, vu = 0;
        switch (selection.Kind)
        {
            case EigenSelection.SelectionKind.All: range = (byte)'A'; break;
            case EigenSelection.SelectionKind.Value: range = (byte)'V'; vl = selection.Lower; vu = selection.Upper; break;
            default:
                range = (byte)'I';
                (il, iu) = (first + 1, last + 1); // LAPACK counts from 1.
                break;
        }

        int ldz = vectors ? n : 1, found = 0, info = 0, lwork = -1, liwork = -1, iworkQuery = 0;
        float workQuery = 0;
        fixed (float* pa = a)
        fixed (float* pz = eigenvectors)
        {
            // W must have room for n values whatever the selection (LAPACK's contract), so it is scratch.
            int isuppzLength = 2 * Math.Max(1, maxCount);
            float wDummy = 0;
            int* isuppzDummy = stackalloc int[2];
            native.Ssyevr(&jobz, &range, &uploChar, &n, pa, &lda, &vl, &vu, &il, &iu, &absoluteTolerance, &found,
                &wDummy, pz == null ? &wDummy : pz, &ldz, isuppzDummy, &workQuery, &lwork, &iworkQuery, &liwork, &info, 1, 1, 1);
            if (info != 0) throw LapackException.IllegalArgument("ssyevr", info);

            lwork = NativeWorkspace.QueriedSize(workQuery, 1);
            liwork = Math.Max(iworkQuery, 1);
            using var ws = new NativeWorkspace([n, lwork], [isuppzLength, liwork]);
            float* w = ws.Floats(n);
            float* work = ws.Floats(lwork);
            int* isuppz = ws.Ints(isuppzLength);
            int* iwork = ws.Ints(liwork);
            native.Ssyevr(&jobz, &range, &uploChar, &n, pa, &lda, &vl, &vu, &il, &iu, &absoluteTolerance, &found,
                w, pz == null ? w : pz, &ldz, isuppz, work, &lwork, iwork, &liwork, &info, 1, 1, 1);
            if (info < 0) throw LapackException.IllegalArgument("ssyevr", info);
            if (info > 0) throw new LapackException("ssyevr", info, "internal error in the MRRR eigensolver");
            if (found > maxCount) throw new LapackException("ssyevr", info, $"returned {found} eigenpairs, more than the {maxCount} selected");
            new ReadOnlySpan<float>(w, found).CopyTo(eigenvalues);
        }
        return found;
    }
}
