using System.Text;
using RespKv.Execution;
using RespKv.Protocol;
using RespKv.Server;
using static RespKv.Execution.CommandFlags;

namespace RespKv.Commands;

/// <summary>
/// <c>LOLWUT [VERSION version] [arguments …]</c> as Redis 7.0.15 (https://redis.io/commands/lolwut/, Redis's <c>lolwut.c</c>,
/// <c>lolwut5.c</c>, <c>lolwut6.c</c>): by default (and for any version but 5 and 6) only <c>Redis ver. 7.0.15</c> and a
/// newline; VERSION 5 Georg Nees's "Schotter" in Braille characters (<c>[columns [squares-per-row [squares-per-column]]]</c>,
/// defaults 66 8 12), VERSION 6 a skyline in ANSI colours (<c>[columns [rows]]</c>, defaults 80 20), each with its caption.
/// The art is random below its first two rows, as Redis's (<c>rand()</c>). A verbatim <c>txt</c> reply (RESP2: a bulk
/// string); a version or argument that is not an integer <c>-ERR value is not an integer or out of range</c>.
/// </summary>
public static class LolwutCommand
{
    /// <summary>This command's row of the command table.</summary>
    public static IEnumerable<CommandInfo> Table =>
    [
        new("lolwut", -1, ReadOnly | Fast, 0, 0, 0, "server", "Display some computer art and the Redis version", Lolwut),
    ];

    private static void Lolwut(CommandContext context, in CommandArgs args)
    {
        RespWriter w = context.Writer;
        int first = 1;
        long version = 7;
        if (args.Count >= 3 && args.Is(1, "VERSION"u8))
        {
            if (!RespInteger.TryParse(args[2], out version))
            {
                w.WriteError(CommandErrors.NotInteger);
                return;
            }
            first = 3;
        }
        // Redis prints the version with "%u.0.0" of an unsigned int and looks at its first characters.
        switch ((uint)version)
        {
            case 5:
                Span<long> schotter = [66, 8, 12];
                if (!TryParseArguments(w, args, first, schotter)) return;
                w.WriteVerbatimText(Schotter(
                    (int)Math.Clamp(schotter[0], 1, 1000), (int)Math.Clamp(schotter[1], 1, 200), (int)Math.Clamp(schotter[2], 1, 200)) +
                    "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. " + RespServer.RedisCompatibleVersion + "\n");
                return;
            case 6:
                Span<long> skyline = [80, 20];
                if (!TryParseArguments(w, args, first, skyline)) return;
                w.WriteVerbatimText(Skyline((int)Math.Clamp(skyline[0], 1, 1000), (int)Math.Clamp(skyline[1], 1, 1000)) +
                    "\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. " +
                    RespServer.RedisCompatibleVersion + "\n");
                return;
            default:
                w.WriteVerbatimText("Redis ver. " + RespServer.RedisCompatibleVersion + "\n");
                return;
        }
    }

    /// <summary>The optional integer arguments from <paramref name="first"/> into <paramref name="values"/> (defaults kept); an error replied for one that is not an integer.</summary>
    private static bool TryParseArguments(RespWriter w, in CommandArgs args, int first, Span<long> values)
    {
        for (int i = 0; i < values.Length && first + i < args.Count; i++)
        {
            if (RespInteger.TryParse(args[first + i], out values[i])) continue;
            w.WriteError(CommandErrors.NotInteger);
            return false;
        }
        return true;
    }

    /// <summary>A canvas of <see cref="Width"/> × <see cref="Height"/> pixels, each a colour (Redis's <c>lwCanvas</c>).</summary>
    private sealed class Canvas(int width, int height, byte background)
    {
        public readonly int Width = width, Height = height;
        private readonly byte[] _pixels = CreatePixels(width, height, background);

        private static byte[] CreatePixels(int width, int height, byte background)
        {
            var pixels = new byte[width * height];
            Array.Fill(pixels, background);
            return pixels;
        }

        public void Draw(int x, int y, int color)
        {
            if (x < 0 || x >= Width || y < 0 || y >= Height) return;
            _pixels[x + y * Width] = (byte)color;
        }

        public int Get(int x, int y) => x < 0 || x >= Width || y < 0 || y >= Height ? 0 : _pixels[x + y * Width];

        /// <summary>Bresenham's line, as Redis's <c>lwDrawLine</c>.</summary>
        public void Line(int x1, int y1, int x2, int y2, int color)
        {
            int dx = Math.Abs(x2 - x1), dy = Math.Abs(y2 - y1);
            int sx = x1 < x2 ? 1 : -1, sy = y1 < y2 ? 1 : -1;
            int err = dx - dy;
            while (true)
            {
                Draw(x1, y1, color);
                if (x1 == x2 && y1 == y2) break;
                int e2 = err * 2;
                if (e2 > -dy)
                {
                    err -= dy;
                    x1 += sx;
                }
                if (e2 < dx)
                {
                    err += dx;
                    y1 += sy;
                }
            }
        }

        /// <summary>A square of side <paramref name="size"/> centred at (x, y) rotated by <paramref name="angle"/>, as Redis's <c>lwDrawSquare</c> (its float arithmetic).</summary>
        public void Square(int x, int y, float size, float angle, int color)
        {
            Span<int> px = stackalloc int[4], py = stackalloc int[4];
            size = (float)(size / 1.4142135623);
            size = (float)Math.Round(size, MidpointRounding.AwayFromZero);
            float k = (float)(Math.PI / 4 + angle);
            for (int j = 0; j < 4; j++)
            {
                px[j] = (int)Math.Round(Math.Sin(k) * size + x, MidpointRounding.AwayFromZero);
                py[j] = (int)Math.Round(Math.Cos(k) * size + y, MidpointRounding.AwayFromZero);
                k = (float)(k + Math.PI / 2);
            }
            for (int j = 0; j < 4; j++) Line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color);
        }
    }

    /// <summary>C's <c>rand()</c>: 0 … 2³¹ − 1.</summary>
    private static int Rand() => Random.Shared.Next(int.MaxValue);

    /// <summary>Redis's <c>lwDrawSchotter</c> rendered as <c>lolwut5.c</c>'s Braille text (2 × 4 pixels a character).</summary>
    private static string Schotter(int columns, int squaresPerRow, int squaresPerColumn)
    {
        int canvasWidth = columns * 2;
        int padding = canvasWidth > 4 ? 2 : 0;
        float squareSide = (float)(canvasWidth - padding * 2) / squaresPerRow;
        int canvasHeight = (int)(squareSide * squaresPerColumn + padding * 2);
        var canvas = new Canvas(canvasWidth, canvasHeight, 0);
        for (int y = 0; y < squaresPerColumn; y++)
        {
            for (int x = 0; x < squaresPerRow; x++)
            {
                int sx = (int)(x * squareSide + squareSide / 2 + padding);
                int sy = (int)(y * squareSide + squareSide / 2 + padding);
                float angle = 0;
                if (y > 1)
                {
                    float r1 = (float)Rand() / int.MaxValue / squaresPerColumn * y;
                    float r2 = (float)Rand() / int.MaxValue / squaresPerColumn * y;
                    float r3 = (float)Rand() / int.MaxValue / squaresPerColumn * y;
                    if (Rand() % 2 != 0) r1 = -r1;
                    if (Rand() % 2 != 0) r2 = -r2;
                    if (Rand() % 2 != 0) r3 = -r3;
                    angle = r1;
                    sx = (int)(sx + r2 * squareSide / 3);
                    sy = (int)(sy + r3 * squareSide / 3);
                }
                canvas.Square(sx, sy, squareSide, angle, 1);
            }
        }
        var text = new StringBuilder();
        for (int y = 0; y < canvas.Height; y += 4)
        {
            for (int x = 0; x < canvas.Width; x += 2)
            {
                int bits = canvas.Get(x, y) | canvas.Get(x, y + 1) << 1 | canvas.Get(x, y + 2) << 2 | canvas.Get(x + 1, y) << 3 |
                    canvas.Get(x + 1, y + 1) << 4 | canvas.Get(x + 1, y + 2) << 5 | canvas.Get(x, y + 3) << 6 | canvas.Get(x + 1, y + 3) << 7;
                text.Append((char)(0x2800 + bits));
            }
            if (y != canvas.Height - 1) text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Redis's <c>generateSkyline</c> (two background rows of grey towers, then windowed black ones) in <c>lolwut6.c</c>'s ANSI colours.</summary>
    private static string Skyline(int columns, int rows)
    {
        var canvas = new Canvas(columns, rows, 3);
        for (int color = 2; color >= 1; color--)
        {
            for (int offset = -10; offset < canvas.Width;)
            {
                offset += Rand() % 8;
                int width = 10 + Rand() % 9;
                int height = color == 2 ? canvas.Height / 2 + Rand() % canvas.Height / 2 : canvas.Height / 2 + Rand() % canvas.Height / 3;
                Skyscraper(canvas, offset, width, height, windows: false, color);
                offset += color == 2 ? width / 2 : width + 1;
            }
        }
        for (int offset = -10; offset < canvas.Width;)
        {
            offset += Rand() % 8;
            int width = 5 + Rand() % 14;
            if (width % 4 != 0) width += width % 3;
            int height = canvas.Height / 3 + Rand() % canvas.Height / 2;
            Skyscraper(canvas, offset, width, height, windows: true, 0);
            offset += width + 5;
        }
        var text = new StringBuilder();
        for (int y = 0; y < canvas.Height; y++)
        {
            for (int x = 0; x < canvas.Width; x++)
            {
                string escape = canvas.Get(x, y) switch { 1 => "0;90;100m", 2 => "0;37;47m", 3 => "0;97;107m", _ => "0;30;40m" };
                text.Append("\u001b[").Append(escape).Append(" \u001b[0m");
            }
            if (y != canvas.Height - 1) text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Redis's <c>generateSkyscraper</c>: a tower from the bottom row, its roof four pixels narrower, windows two pixels wide.</summary>
    private static void Skyscraper(Canvas canvas, int xoff, int width, int height, bool windows, int towerColor)
    {
        int starty = canvas.Height - 1, endy = starty - height + 1;
        for (int y = starty; y >= endy; y--)
        {
            for (int x = xoff; x < xoff + width; x++)
            {
                if (y == endy && (x <= xoff + 1 || x >= xoff + width - 2)) continue;
                int color = towerColor;
                if (windows && x > xoff + 1 && x < xoff + width - 2 && y > endy + 1 && y < starty - 1)
                {
                    int relx = x - (xoff + 1), rely = y - (endy + 1);
                    if (relx / 2 % 2 != 0 && rely % 2 != 0)
                    {
                        do color = 1 + Rand() % 2;
                        while (color == towerColor);
                        if (relx % 2 != 0) color = canvas.Get(x - 1, y);
                    }
                }
                canvas.Draw(x, y, color);
            }
        }
    }
}
