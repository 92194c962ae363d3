namespace RespKv.Commands;

/// <summary>
/// Redis 7.0's geohash arithmetic (its <c>geohash.c</c> and <c>geohash_helper.c</c>), written for RespKv: a position is a
/// 52-bit interleaved geohash (26 steps of longitude and latitude, latitude in the even bits) stored as a sorted-set score;
/// the latitude range is Web Mercator's ±85.05112878°, the longitude ±180°. Distances are Redis's haversine on a sphere of
/// radius <see cref="EarthRadiusMeters"/>, so scores, decoded coordinates (cell centres) and distances equal redis-server's
/// bit for bit.
/// </summary>
public static class GeoHash
{
    /// <summary>Smallest longitude accepted (degrees), Redis's <c>GEO_LONG_MIN</c>.</summary>
    public const double LongitudeMin = -180;

    /// <summary>Largest longitude accepted (degrees), Redis's <c>GEO_LONG_MAX</c>.</summary>
    public const double LongitudeMax = 180;

    /// <summary>Smallest latitude accepted (degrees), Redis's <c>GEO_LAT_MIN</c> (EPSG:900913's limit).</summary>
    public const double LatitudeMin = -85.05112878;

    /// <summary>Largest latitude accepted (degrees), Redis's <c>GEO_LAT_MAX</c>.</summary>
    public const double LatitudeMax = 85.05112878;

    /// <summary>Steps of a stored position (26 × 2 = 52 bits), Redis's <c>GEO_STEP_MAX</c>.</summary>
    public const int StepMax = 26;

    /// <summary>Earth's quadratic mean radius in meters, Redis's <c>EARTH_RADIUS_IN_METERS</c>.</summary>
    public const double EarthRadiusMeters = 6372797.560856;

    private const double MercatorMax = 20037726.37;
    private const double DegreesToRadians = Math.PI / 180.0;

    /// <summary>A geohash of <see cref="Step"/> steps (2 × Step significant bits); zero bits and step mark an excluded search area.</summary>
    /// <param name="Bits">The interleaved bits, latitude in the even positions.</param>
    /// <param name="Step">Bits per coordinate.</param>
    public readonly record struct Cell(ulong Bits, int Step)
    {
        /// <summary>True for Redis's zeroed neighbour (an area the search skips).</summary>
        public bool IsZero => Bits == 0 && Step == 0;
    }

    /// <summary>The area a search covers: the centre cell then its north, south, east, west, north-east, north-west, south-east and south-west neighbours (Redis's order); zero cells are skipped.</summary>
    public struct SearchAreas
    {
        /// <summary>The nine cells in Redis's <c>membersOfAllNeighbors</c> order.</summary>
        public Cell Center, North, South, East, West, NorthEast, NorthWest, SouthEast, SouthWest;

        /// <summary>Cell <paramref name="i"/> (0 … 8) in search order.</summary>
        public readonly Cell this[int i] => i switch
        {
            0 => Center, 1 => North, 2 => South, 3 => East, 4 => West, 5 => NorthEast, 6 => NorthWest, 7 => SouthEast, _ => SouthWest,
        };
    }

    /// <summary>
    /// A search shape (Redis's <c>GeoShape</c>): a circle of <see cref="Radius"/> or a box of <see cref="Width"/> ×
    /// <see cref="Height"/> around (<see cref="Longitude"/>, <see cref="Latitude"/>), lengths in the request's unit,
    /// <see cref="Conversion"/> meters per unit.
    /// </summary>
    public struct Shape
    {
        /// <summary>True for BYBOX, false for a radius.</summary>
        public bool IsBox;
        /// <summary>Centre longitude and latitude, degrees.</summary>
        public double Longitude, Latitude;
        /// <summary>Radius, box width and height, in the request's unit.</summary>
        public double Radius, Width, Height;
        /// <summary>Meters per unit (m 1, km 1000, ft 0.3048, mi 1609.34).</summary>
        public double Conversion;
    }

    private static ulong Interleave(uint xlo, uint ylo)
    {
        ulong x = xlo, y = ylo;
        x = (x | (x << 16)) & 0x0000FFFF0000FFFFUL; y = (y | (y << 16)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x << 8)) & 0x00FF00FF00FF00FFUL; y = (y | (y << 8)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FUL; y = (y | (y << 4)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x << 2)) & 0x3333333333333333UL; y = (y | (y << 2)) & 0x3333333333333333UL;
        x = (x | (x << 1)) & 0x5555555555555555UL; y = (y | (y << 1)) & 0x5555555555555555UL;
        return x | (y << 1);
    }

    private static ulong Deinterleave(ulong interleaved)
    {
        if (System.Runtime.Intrinsics.X86.Bmi2.X64.IsSupported)
        {
            // One PEXT per coordinate: the even bits (latitude) to the low word, the odd bits (longitude) to the high word.
            ulong even = System.Runtime.Intrinsics.X86.Bmi2.X64.ParallelBitExtract(interleaved, 0x5555555555555555UL);
            ulong odd = System.Runtime.Intrinsics.X86.Bmi2.X64.ParallelBitExtract(interleaved, 0xAAAAAAAAAAAAAAAAUL);
            return even | (odd << 32);
        }
        ulong x = interleaved, y = interleaved >> 1;
        x &= 0x5555555555555555UL; y &= 0x5555555555555555UL;
        x = (x | (x >> 1)) & 0x3333333333333333UL; y = (y | (y >> 1)) & 0x3333333333333333UL;
        x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FUL; y = (y | (y >> 2)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x >> 4)) & 0x00FF00FF00FF00FFUL; y = (y | (y >> 4)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x >> 8)) & 0x0000FFFF0000FFFFUL; y = (y | (y >> 8)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x >> 16)) & 0x00000000FFFFFFFFUL; y = (y | (y >> 16)) & 0x00000000FFFFFFFFUL;
        return x | (y << 32);
    }

    /// <summary>True when (<paramref name="longitude"/>, <paramref name="latitude"/>) may be indexed (Redis's <c>extractLongLatOrReply</c> check).</summary>
    public static bool IsValid(double longitude, double latitude) =>
        !(longitude < LongitudeMin || longitude > LongitudeMax || latitude < LatitudeMin || latitude > LatitudeMax);

    /// <summary>
    /// Redis's <c>geohashEncode</c> within latitude range [<paramref name="latMin"/>, <paramref name="latMax"/>] (the longitude
    /// range is ±180): false for a position outside the indexable range.
    /// </summary>
    public static bool Encode(double longitude, double latitude, int step, double latMin, double latMax, out Cell cell)
    {
        cell = default;
        if (!IsValid(longitude, latitude) || latitude < latMin || latitude > latMax) return false;
        double latOffset = (latitude - latMin) / (latMax - latMin);
        double longOffset = (longitude - LongitudeMin) / (LongitudeMax - LongitudeMin);
        latOffset *= 1UL << step;
        longOffset *= 1UL << step;
        cell = new Cell(Interleave((uint)latOffset, (uint)longOffset), step);
        return true;
    }

    /// <summary>The sorted-set score of a valid position: its 26-step geohash aligned to 52 bits (what GEOADD stores).</summary>
    public static ulong Score(double longitude, double latitude)
    {
        Encode(longitude, latitude, StepMax, LatitudeMin, LatitudeMax, out Cell cell);
        return Align52(cell);
    }

    /// <summary>Redis's <c>geohashAlign52Bits</c>: <paramref name="cell"/>'s bits shifted to the top of 52.</summary>
    public static ulong Align52(Cell cell) => cell.Bits << (52 - cell.Step * 2);

    /// <summary>Redis's <c>geohashDecode</c>: the bounds of <paramref name="cell"/> (degrees) with latitude range [<paramref name="latMin"/>, <paramref name="latMax"/>].</summary>
    private static void Decode(Cell cell, double latMin, double latMax, out double lonLo, out double lonHi, out double latLo, out double latHi)
    {
        ulong separated = Deinterleave(cell.Bits);
        double latScale = latMax - latMin, longScale = LongitudeMax - LongitudeMin;
        uint ilato = (uint)separated, ilono = (uint)(separated >> 32);
        double cells = 1UL << cell.Step;
        latLo = latMin + (ilato * 1.0 / cells) * latScale;
        latHi = latMin + ((ilato + 1UL) * 1.0 / cells) * latScale;
        lonLo = LongitudeMin + (ilono * 1.0 / cells) * longScale;
        lonHi = LongitudeMin + ((ilono + 1UL) * 1.0 / cells) * longScale;
    }

    /// <summary>
    /// The position a score stands for (Redis's <c>decodeGeohash</c>): the centre of its 52-bit cell, clamped to the
    /// indexable range. Any score decodes (a score that is not a geohash gives some position, as in Redis).
    /// </summary>
    public static void Decode(double score, out double longitude, out double latitude)
    {
        Decode(new Cell(ScoreBits(score), StepMax), LatitudeMin, LatitudeMax, out double lonLo, out double lonHi, out double latLo, out double latHi);
        longitude = Math.Clamp((lonLo + lonHi) / 2, LongitudeMin, LongitudeMax);
        latitude = Math.Clamp((latLo + latHi) / 2, LatitudeMin, LatitudeMax);
    }

    /// <summary>
    /// C's <c>(uint64_t)score</c> as x86-64 compilers emit it (a truncating signed conversion below 2⁶³, else of score − 2⁶³
    /// with the top bit set; out of range the "integer indefinite" 2⁶³): a negative score wraps, so it decodes as Redis's does.
    /// </summary>
    private static ulong ScoreBits(double score)
    {
        const double TwoTo63 = 9223372036854775808.0;
        if (score < TwoTo63) return score >= -TwoTo63 ? (ulong)(long)score : 0x8000000000000000UL;
        double high = score - TwoTo63;
        return high < TwoTo63 ? (ulong)(long)high ^ 0x8000000000000000UL : 0;
    }

    /// <summary>
    /// The standard 11-character base-32 geohash of a score (GEOHASH's reply): the decoded position re-encoded with latitude
    /// range ±90, its 52 bits as ten characters and a final <c>0</c>.
    /// </summary>
    public static void Text(double score, Span<byte> destination)
    {
        ReadOnlySpan<byte> alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"u8;
        Decode(score, out double longitude, out double latitude);
        Encode(longitude, latitude, StepMax, -90, 90, out Cell cell);
        for (int i = 0; i < 10; i++) destination[i] = alphabet[(int)((cell.Bits >> (52 - (i + 1) * 5)) & 0x1f)];
        destination[10] = (byte)'0';
    }

    private static double ToRadians(double degrees) => degrees * DegreesToRadians;

    private static double ToDegrees(double radians) => radians / DegreesToRadians;

    /// <summary>Redis's <c>geohashGetLatDistance</c>: meters between two latitudes along a meridian.</summary>
    private static double LatitudeDistance(double lat1, double lat2) => EarthRadiusMeters * Math.Abs(ToRadians(lat2) - ToRadians(lat1));

    /// <summary>Redis's <c>geohashGetDistance</c>: the haversine distance in meters between two positions (degrees).</summary>
    public static double Distance(double lon1, double lat1, double lon2, double lat2)
    {
        double lon1r = ToRadians(lon1), lon2r = ToRadians(lon2);
        double v = Math.Sin((lon2r - lon1r) / 2);
        if (v == 0.0) return LatitudeDistance(lat1, lat2);
        double lat1r = ToRadians(lat1), lat2r = ToRadians(lat2);
        double u = Math.Sin((lat2r - lat1r) / 2);
        double a = u * u + Math.Cos(lat1r) * Math.Cos(lat2r) * v * v;
        return 2.0 * EarthRadiusMeters * Math.Asin(Math.Sqrt(a));
    }

    /// <summary>
    /// Redis's <c>geoWithinShape</c> for one search: decodes a score and tells whether it lies in the shape (a circle:
    /// distance ≤ radius; a box: latitude and longitude distances within half the height and width), with its position and
    /// its distance in meters from the centre — the same decisions and the same distances, bit for bit, as
    /// <see cref="Distance"/> gives, with the centre's share of the haversine computed once per search.
    /// <para>
    /// For a circle, a point is first tested against a lower bound of the haversine term <c>a</c> that needs no
    /// trigonometry: |sin y| ≥ y − y³/6 for 0 ≤ y ≤ √6, and cos(φ₁ + d) ≥ cos φ₁ − d·sin φ₁ − d²/2. A point whose bound
    /// exceeds sin²(radius / 2R) by more than any rounding (a relative margin of 10⁻⁹ and an absolute 10⁻¹⁸, about
    /// a centimetre) is outside, and is rejected without its sines, cosine and arcsine; every other point gets
    /// Redis's computation, so the search's answer is unchanged. The bound's slack is O(d²) in the angular distance d, so
    /// only points just beyond the radius pay for the exact formula.
    /// </para>
    /// </summary>
    public readonly struct Probe
    {
        private readonly Shape _shape;
        private readonly double _lonRadians, _latRadians, _cosLatitude, _sinLatitude, _radiusMeters, _rejectAbove;

        /// <summary>A probe of <paramref name="shape"/>: the centre in radians, its cosine and sine, and the rejection bound.</summary>
        public Probe(in Shape shape)
        {
            _shape = shape;
            _lonRadians = ToRadians(shape.Longitude);
            _latRadians = ToRadians(shape.Latitude);
            _cosLatitude = Math.Cos(_latRadians);
            _sinLatitude = Math.Sin(_latRadians);
            _radiusMeters = shape.Radius * shape.Conversion;
            double half = _radiusMeters / (2.0 * EarthRadiusMeters);
            // A half-angle of π/2 or more (or NaN) covers the whole sphere: nothing is rejected early.
            if (!shape.IsBox && half >= 0 && half < Math.PI / 2)
            {
                double s = Math.Sin(half);
                _rejectAbove = s * s * (1 + 1e-9) + 1e-18;
            }
            else _rejectAbove = double.PositiveInfinity;
        }

        /// <summary>|sin y| ≥ this for y ≥ 0 (the Taylor bound y − y³/6, clamped at 0; valid while y ≤ π, and 0 beyond √6).</summary>
        private static double SinLowerBound(double y) => Math.Max(0, y - y * y * y / 6);

        /// <summary>The decoded position of <paramref name="score"/>, whether it is in the shape, and its distance in meters.</summary>
        public bool Within(double score, out double longitude, out double latitude, out double distance)
        {
            Decode(score, out longitude, out latitude);
            if (!_shape.IsBox)
            {
                double lon2r = ToRadians(longitude), lat2r = ToRadians(latitude);
                double dLat = lat2r - _latRadians;
                double uLow = SinLowerBound(Math.Abs(dLat) / 2), vLow = SinLowerBound(Math.Abs(lon2r - _lonRadians) / 2);
                double cosLow = Math.Max(0, _cosLatitude - dLat * _sinLatitude - dLat * dLat / 2);
                if (uLow * uLow + _cosLatitude * cosLow * vLow * vLow > _rejectAbove)
                {
                    distance = 0;
                    return false;
                }
                // Redis's geohashGetDistance, the centre's radians and cosine taken from the probe.
                double v = Math.Sin((lon2r - _lonRadians) / 2);
                if (v == 0.0) distance = LatitudeDistance(_shape.Latitude, latitude);
                else
                {
                    double u = Math.Sin((lat2r - _latRadians) / 2);
                    double a = u * u + _cosLatitude * Math.Cos(lat2r) * v * v;
                    distance = 2.0 * EarthRadiusMeters * Math.Asin(Math.Sqrt(a));
                }
                return distance <= _radiusMeters;
            }
            distance = 0;
            if (LatitudeDistance(latitude, _shape.Latitude) > _shape.Height * _shape.Conversion / 2) return false;
            if (Distance(longitude, latitude, _shape.Longitude, latitude) > _shape.Width * _shape.Conversion / 2) return false;
            distance = Distance(_shape.Longitude, _shape.Latitude, longitude, latitude);
            return true;
        }
    }

    /// <summary>Redis's <c>geohashEstimateStepsByRadius</c>: the coarsest step whose cells still cover <paramref name="rangeMeters"/> (1 … 26).</summary>
    private static int EstimateSteps(double rangeMeters, double latitude)
    {
        if (rangeMeters == 0) return 26;
        int step = 1;
        while (rangeMeters < MercatorMax)
        {
            rangeMeters *= 2;
            step++;
        }
        step -= 2;
        if (latitude > 66 || latitude < -66)
        {
            step--;
            if (latitude > 80 || latitude < -80) step--;
        }
        return Math.Clamp(step, 1, 26);
    }

    /// <summary>
    /// Redis's <c>geohash_move_x</c> (<paramref name="moving"/> the odd, longitude bits) and <c>geohash_move_y</c> (the even,
    /// latitude bits): the neighbouring cell one step in direction <paramref name="d"/> (−1, 0, +1) along that coordinate.
    /// </summary>
    private static Cell Move(Cell cell, int d, ulong moving)
    {
        if (d == 0) return cell;
        ulong x = cell.Bits & moving, y = cell.Bits & ~moving;
        ulong zz = ~moving >> (64 - cell.Step * 2);
        if (d > 0) x += zz + 1;
        else
        {
            x |= zz;
            x -= zz + 1;
        }
        x &= moving >> (64 - cell.Step * 2);
        return cell with { Bits = x | y };
    }

    private static Cell MoveX(Cell cell, int d) => Move(cell, d, 0xaaaaaaaaaaaaaaaaUL);

    private static Cell MoveY(Cell cell, int d) => Move(cell, d, 0x5555555555555555UL);

    private static SearchAreas Around(Cell center) => new()
    {
        Center = center,
        East = MoveX(center, 1),
        West = MoveX(center, -1),
        South = MoveY(center, -1),
        North = MoveY(center, 1),
        NorthWest = MoveY(MoveX(center, -1), 1),
        NorthEast = MoveY(MoveX(center, 1), 1),
        SouthEast = MoveY(MoveX(center, 1), -1),
        SouthWest = MoveY(MoveX(center, -1), -1),
    };

    /// <summary>
    /// Redis's <c>geohashCalculateAreasByShapeWGS84</c>: the centre's cell at the step estimated from the shape's radius (or
    /// half-diagonal) and its eight neighbours, one step coarser when a neighbour does not reach the bounding box, with the
    /// neighbours lying wholly outside the bounding box zeroed.
    /// </summary>
    public static SearchAreas Areas(in Shape shape)
    {
        double longitude = shape.Longitude, latitude = shape.Latitude;
        double height = shape.Conversion * (shape.IsBox ? shape.Height / 2 : shape.Radius);
        double width = shape.Conversion * (shape.IsBox ? shape.Width / 2 : shape.Radius);
        double latDelta = ToDegrees(height / EarthRadiusMeters);
        double longDeltaTop = ToDegrees(width / EarthRadiusMeters / Math.Cos(ToRadians(latitude + latDelta)));
        double longDeltaBottom = ToDegrees(width / EarthRadiusMeters / Math.Cos(ToRadians(latitude - latDelta)));
        bool southern = latitude < 0;
        double minLon = southern ? longitude - longDeltaBottom : longitude - longDeltaTop;
        double maxLon = southern ? longitude + longDeltaBottom : longitude + longDeltaTop;
        double minLat = latitude - latDelta, maxLat = latitude + latDelta;

        double radiusMeters = shape.IsBox
            ? Math.Sqrt((shape.Width / 2) * (shape.Width / 2) + (shape.Height / 2) * (shape.Height / 2))
            : shape.Radius;
        radiusMeters *= shape.Conversion;
        int steps = EstimateSteps(radiusMeters, latitude);
        Encode(longitude, latitude, steps, LatitudeMin, LatitudeMax, out Cell center);
        SearchAreas areas = Around(center);
        Decode(areas.North, LatitudeMin, LatitudeMax, out _, out _, out _, out double northMax);
        Decode(areas.South, LatitudeMin, LatitudeMax, out _, out _, out double southMin, out _);
        Decode(areas.East, LatitudeMin, LatitudeMax, out _, out double eastMax, out _, out _);
        Decode(areas.West, LatitudeMin, LatitudeMax, out double westMin, out _, out _, out _);
        bool decrease = northMax < maxLat || southMin > minLat || eastMax < maxLon || westMin > minLon;
        if (steps > 1 && decrease)
        {
            steps--;
            Encode(longitude, latitude, steps, LatitudeMin, LatitudeMax, out center);
            areas = Around(center);
        }
        if (steps >= 2)
        {
            Decode(center, LatitudeMin, LatitudeMax, out double lonLo, out double lonHi, out double latLo, out double latHi);
            if (latLo < minLat) areas.South = areas.SouthWest = areas.SouthEast = default;
            if (latHi > maxLat) areas.North = areas.NorthEast = areas.NorthWest = default;
            if (lonLo < minLon) areas.West = areas.SouthWest = areas.NorthWest = default;
            if (lonHi > maxLon) areas.East = areas.SouthEast = areas.NorthEast = default;
        }
        return areas;
    }
}
